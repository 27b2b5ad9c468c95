package dev.mlinfra.commons.api;

import dev.mlinfra.commons.error.ApiException;
import java.util.regex.Pattern;

/** Validated {@code limit} and {@code offset} of a list request. */
public record PageParams(int limit, int offset) {

    public static final int DEFAULT_LIMIT = 10;
    public static final int MAX_LIMIT = 100;
    private static final Pattern INTEGER = Pattern.compile("-?[0-9]{1,18}");

    /** Parses the raw query values; anything but an integer in range is a 400 naming the parameter. */
    public static PageParams parse(String limit, String offset) {
        return new PageParams(
                parse("limit", limit, DEFAULT_LIMIT, 1, MAX_LIMIT),
                parse("offset", offset, 0, 0, Integer.MAX_VALUE));
    }

    private static int parse(String name, String raw, int fallback, int min, int max) {
        if (raw == null) {
            return fallback;
        }
        String range = "an integer from " + min + " to " + max;
        // digits only, as the text values are read exactly: no sign, no spaces around them
        if (!INTEGER.matcher(raw).matches()) {
            throw ApiException.badRequest("Invalid query parameter '" + name + "': expected " + range + ", got '" + raw + "'");
        }
        long value = Long.parseLong(raw);
        if (value < min || value > max) {
            throw ApiException.badRequest("Invalid query parameter '" + name + "': expected " + range + ", got " + value);
        }
        return (int) value;
    }
}
