package dev.mlinfra.modelserver.api;

/** A request that fails with an OpenAI-shaped error. */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String type;
    private final String param;

    public ApiException(int status, String type, String message, String param) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
    }

    /** 400 naming the parameter at fault. */
    public static ApiException badRequest(String param, String message) {
        return new ApiException(400, "BadRequestError", message, param);
    }

    /** 404 for an unknown model or adapter. */
    public static ApiException notFound(String param, String message) {
        return new ApiException(404, "NotFoundError", message, param);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }
}
