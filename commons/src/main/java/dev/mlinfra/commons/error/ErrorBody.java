package dev.mlinfra.commons.error;

/** The contract's error object: {@code {"error": {"code", "message", "status"}}}. */
public record ErrorBody(Detail error) {

    public record Detail(String code, String message, int status) {
    }

    public static ErrorBody of(ErrorCode code, String message) {
        return new ErrorBody(new Detail(code.code(), message, code.status()));
    }

    /** The same object as JSON text, for writers that sit below the JSON layer (routes, proxies). */
    public String toJson() {
        return "{\"error\":{\"code\":\"" + error.code() + "\",\"message\":\"" + escape(error.message())
                + "\",\"status\":" + error.status() + "}}";
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }
}
