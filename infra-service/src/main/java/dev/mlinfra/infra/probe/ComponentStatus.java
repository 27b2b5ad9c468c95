package dev.mlinfra.infra.probe;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One component's entry in the status: {@code status}, the {@code version} the component reported, and
 * what else its probe learned (endpoint without credentials, latency_ms, reason, ...), in that order.
 * Fields about the platform's insides (addresses, paths, other teams' served models) are for
 * operators: {@link #forOperators(boolean)} leaves them out for everyone else.
 */
public final class ComponentStatus {

    public enum Health {
        HEALTHY, DEGRADED, UNHEALTHY;

        @JsonValue
        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The worse of two. */
        public Health and(Health other) {
            return compareTo(other) >= 0 ? this : other;
        }
    }

    private final Health health;
    private final Map<String, Object> fields = new LinkedHashMap<>();
    private final Set<String> internal = new HashSet<>();

    private ComponentStatus(Health health) {
        this.health = health;
        fields.put("status", health);
    }

    public static ComponentStatus of(Health health) {
        return new ComponentStatus(health);
    }

    public static ComponentStatus healthy(String version) {
        return new ComponentStatus(Health.HEALTHY).with("version", version);
    }

    public static ComponentStatus unhealthy(String reason) {
        return new ComponentStatus(Health.UNHEALTHY).with("reason", reason);
    }

    /** Adds a field; null values are left out. */
    public ComponentStatus with(String key, Object value) {
        if (value != null) {
            fields.put(key, value);
        }
        return this;
    }

    /** Adds a field that only operators see (where a component runs, what it serves for every team); null values are left out. */
    public ComponentStatus withInternal(String key, Object value) {
        if (value != null) {
            internal.add(key);
        }
        return with(key, value);
    }

    /** This status as an operator sees it, or without its internal fields for anyone else. */
    public ComponentStatus forOperators(boolean operator) {
        if (operator || internal.isEmpty()) {
            return this;
        }
        ComponentStatus view = new ComponentStatus(health);
        fields.forEach((key, value) -> {
            if (!internal.contains(key)) {
                view.fields.put(key, value);
            }
        });
        return view;
    }

    public Health health() {
        return health;
    }

    public Object get(String key) {
        return fields.get(key);
    }

    @JsonAnyGetter
    public Map<String, Object> fields() {
        return Collections.unmodifiableMap(fields);
    }
}
