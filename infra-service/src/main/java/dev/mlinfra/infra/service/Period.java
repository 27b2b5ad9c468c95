package dev.mlinfra.infra.service;

import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The periods of the metrics history and the interval of each: about 100 points at most per series.
 * Every interval is also a rollup resolution in the database, kept for its period plus one interval,
 * so a query reads one row per point whatever the period.
 */
public enum Period {
    HOUR("1h", Duration.ofHours(1), "1m", Duration.ofMinutes(1)),
    SIX_HOURS("6h", Duration.ofHours(6), "5m", Duration.ofMinutes(5)),
    DAY("24h", Duration.ofHours(24), "15m", Duration.ofMinutes(15)),
    WEEK("7d", Duration.ofDays(7), "2h", Duration.ofHours(2)),
    MONTH("30d", Duration.ofDays(30), "8h", Duration.ofHours(8));

    public final String value;
    public final Duration length;
    public final String intervalName;
    public final Duration interval;

    Period(String value, Duration length, String intervalName, Duration interval) {
        this.value = value;
        this.length = length;
        this.intervalName = intervalName;
        this.interval = interval;
    }

    /** How long the rollup of this period's interval is kept. */
    public Duration retention() {
        return length.plus(interval);
    }

    public static Period of(String value) {
        return Arrays.stream(values()).filter(p -> p.value.equals(value)).findFirst().orElse(null);
    }

    public static String allowed() {
        return Arrays.stream(values()).map(p -> p.value).collect(Collectors.joining(", "));
    }
}
