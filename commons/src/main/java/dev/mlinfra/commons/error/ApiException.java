package dev.mlinfra.commons.error;

/** A failure that the client should see as the contract's error object. */
public class ApiException extends RuntimeException {

    private final ErrorCode code;
    private final Integer retryAfterSeconds;

    public ApiException(ErrorCode code, String message) {
        this(code, message, null);
    }

    private ApiException(ErrorCode code, String message, Integer retryAfterSeconds) {
        super(message, null, false, false);
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public ErrorCode code() {
        return code;
    }

    /** Seconds after which a retry may succeed ({@code Retry-After}); null when none is said. */
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** 503: what the request needs is not ready yet; a retry after {@code retryAfterSeconds} may succeed. */
    public static ApiException unavailable(String message, int retryAfterSeconds) {
        return new ApiException(ErrorCode.SERVICE_UNAVAILABLE, message, retryAfterSeconds);
    }

    /**
     * 503: a peer service could not say in time what the request needs; {@code Retry-After} is the
     * time the peers' circuit breakers stay open (10 s), after which a retry reaches the peer again.
     */
    public static ApiException peerUnavailable(String what) {
        return unavailable(what + "; retry in a moment", 10);
    }

    /** 502: a server behind this service failed. */
    public static ApiException badGateway(String message) {
        return new ApiException(ErrorCode.BAD_GATEWAY, message);
    }

    public static ApiException badRequest(String message) {
        return new ApiException(ErrorCode.INVALID_REQUEST, message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(ErrorCode.NOT_FOUND, message);
    }

    public static ApiException conflict(String message) {
        return new ApiException(ErrorCode.CONFLICT, message);
    }

    public static ApiException forbidden(String message) {
        return new ApiException(ErrorCode.FORBIDDEN, message);
    }

    public static ApiException unauthorized(String message) {
        return new ApiException(ErrorCode.UNAUTHORIZED, message);
    }
}
