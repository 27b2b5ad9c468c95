package dev.mlinfra.commons.http;

import java.util.UUID;
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
        return UUID.randomUUID().toString();
    }
}
