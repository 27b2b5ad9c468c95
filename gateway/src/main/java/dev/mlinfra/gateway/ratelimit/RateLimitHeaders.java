package dev.mlinfra.gateway.ratelimit;

import io.vertx.core.http.HttpServerResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The rate-limit headers of a limited response: the contract's {@code X-RateLimit-*} and the
 * IETF fields of draft-ietf-httpapi-ratelimit-headers-11 (May 2026), Structured Field Lists
 * whose item is the policy's name (the rate area) as a String:
 *
 * <pre>
 * RateLimit-Policy: "inference";q=100;w=60   quota q per window of w seconds
 * RateLimit: "inference";r=42;t=17           r requests left for the next t seconds
 * </pre>
 *
 * Both describe the same window as {@code X-RateLimit-*}: {@code q} is {@code X-RateLimit-Limit},
 * {@code r} is {@code X-RateLimit-Remaining}, and {@code t} counts the seconds to
 * {@code X-RateLimit-Reset}. A refused request's {@code Retry-After} is never earlier than the end
 * of that window, as the draft asks. The draft's optional {@code pk} (partition key) is left out:
 * the partition is the API key itself, which a response must not echo.
 */
public final class RateLimitHeaders {

    public static final String LIMIT = "X-RateLimit-Limit";
    public static final String REMAINING = "X-RateLimit-Remaining";
    public static final String RESET = "X-RateLimit-Reset";
    public static final String POLICY = "RateLimit-Policy";
    public static final String RATE_LIMIT = "RateLimit";
    public static final String RETRY_AFTER = "Retry-After";

    private RateLimitHeaders() {
    }

    /** Writes the headers of {@code decision} as of {@code nowEpochMillis}; a refusal gets {@code Retry-After} too. */
    public static void write(HttpServerResponse response, RateDecision decision, long nowEpochMillis) {
        emit(decision, nowEpochMillis, response::putHeader);
    }

    /** The headers of {@code decision} as of {@code nowEpochMillis}, in the order they are sent. */
    static Map<String, String> of(RateDecision decision, long nowEpochMillis) {
        Map<String, String> headers = new LinkedHashMap<>();
        emit(decision, nowEpochMillis, headers::put);
        return headers;
    }

    private static void emit(RateDecision decision, long nowEpochMillis, BiConsumer<String, String> header) {
        RatePolicy policy = decision.policy();
        String name = sfString(policy.area());
        header.accept(LIMIT, Integer.toString(decision.limit()));
        header.accept(REMAINING, Integer.toString(decision.remaining()));
        header.accept(RESET, Long.toString(decision.resetEpochSeconds()));
        header.accept(POLICY, name + ";q=" + policy.limit() + ";w=" + windowSeconds(policy));
        header.accept(RATE_LIMIT, name + ";r=" + decision.remaining() + ";t=" + decision.secondsToReset(nowEpochMillis));
        if (!decision.allowed()) {
            header.accept(RETRY_AFTER, Long.toString(decision.retryAfterSeconds(nowEpochMillis)));
        }
    }

    /** The window in whole seconds (the draft has no sub-second windows), at least 1. */
    static long windowSeconds(RatePolicy policy) {
        return Math.max(1, Math.floorDiv(policy.window().toMillis() + 999, 1000));
    }

    /** A Structured Field String (RFC 9651 section 3.3.3): quoted, with '"' and '\' escaped. */
    static String sfString(String value) {
        StringBuilder b = new StringBuilder(value.length() + 2).append('"');
        for (char c : value.toCharArray()) {
            if (c < 0x20 || c > 0x7e) {
                throw new IllegalArgumentException("rate area names are printable ASCII, got '" + value + "'");
            }
            if (c == '"' || c == '\\') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.append('"').toString();
    }
}
