package dev.mlinfra.gateway.ratelimit;

import java.time.Duration;

/** How many requests one key may make in one area per window. */
public record RatePolicy(String area, int limit, Duration window) {
}
