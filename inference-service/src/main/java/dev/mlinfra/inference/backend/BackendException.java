package dev.mlinfra.inference.backend;

/** A call to a serving backend that did not succeed, sorted by what the caller can do about it. */
public class BackendException extends RuntimeException {

    public enum Kind {
        /** The server cannot be reached (starting, restarting, circuit open): a retry later may succeed; nothing was generated. */
        UNAVAILABLE,
        /** The server failed, timed out or dropped the connection: a generation may have started, so it is not retried. */
        FAILED,
        /** The server refused the request (4xx): the message says why. */
        REJECTED
    }

    private final Kind kind;
    private final int status;
    private final String param;

    public BackendException(Kind kind, int status, String message, Throwable cause) {
        this(kind, status, message, null, cause);
    }

    /** {@code param}: the request parameter a refusal names (OpenAI's {@code error.param}), or null. */
    public BackendException(Kind kind, int status, String message, String param, Throwable cause) {
        super(message, cause, false, false);
        this.kind = kind;
        this.status = status;
        this.param = param;
    }

    public Kind kind() {
        return kind;
    }

    /** Whether {@code e} says that the server refused the request (a 4xx), as opposed to not answering or failing. */
    public static boolean refusal(Throwable e) {
        return e instanceof BackendException b && b.kind == Kind.REJECTED;
    }

    /** Whether {@code e} says that the server refused the request with this status. */
    public static boolean refusal(Throwable e, int status) {
        return refusal(e) && ((BackendException) e).status == status;
    }

    /**
     * The message without the addresses of the servers (URLs, host and port) in it: what a client is
     * told, where several teams share the platform; the log keeps the whole message.
     */
    public String withoutAddresses() {
        return getMessage().replaceAll("\\s*https?://[^\\s)]+", "")
                .replaceAll("[^\\s(]*\\b\\d{1,3}(\\.\\d{1,3}){3}:\\d+\\b\\S*", "(address left out)");
    }

    /** The request parameter the server's refusal names, or null. */
    public String param() {
        return param;
    }

    /** The server's HTTP status; 0 when it did not answer. */
    public int status() {
        return status;
    }
}
