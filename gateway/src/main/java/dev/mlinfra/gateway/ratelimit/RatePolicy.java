package dev.mlinfra.gateway.ratelimit;

import java.time.Duration;

/**
 * How many requests one key may make in one area per window. A policy is data: the configured
 * limit of the area, or the key's own limit where an administrator set one; the stores count the
 * same window whichever applies, so a changed limit takes effect within the current window.
 */
public record RatePolicy(String area, int limit, Duration window) {

    public RatePolicy withLimit(int newLimit) {
        return newLimit == limit ? this : new RatePolicy(area, newLimit, window);
    }
}
