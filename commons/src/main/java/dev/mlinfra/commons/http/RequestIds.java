package dev.mlinfra.commons.http;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/** The request id every request carries through the platform, in headers and in log lines. */
public final class RequestIds {

    public static final String HEADER = "X-Request-Id";
    /** Routing-context key and MDC key. */
    public static final String KEY = "request_id";

    private static final Pattern ACCEPTABLE = Pattern.compile("[A-Za-z0-9._:\\-]{1,128}");

    private RequestIds() {
    }

    /** The client's id when it is a sane token, else a fresh one (a hostile header never reaches the logs). */
    public static String acceptOrGenerate(String offered) {
        if (offered != null && ACCEPTABLE.matcher(offered).matches()) {
            return offered;
        }
        return randomId();
    }

    /**
     * A random (version 4) UUID drawn from the thread's own generator. Request ids must be unique,
     * not unguessable, so they do not need {@code UUID.randomUUID()}'s SecureRandom, whose lock the
     * event loops share and which reads the kernel's random source as it goes: one per request.
     */
    static String randomId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long high = (random.nextLong() & ~0xF000L) | 0x4000L;
        long low = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        return new UUID(high, low).toString();
    }
}
