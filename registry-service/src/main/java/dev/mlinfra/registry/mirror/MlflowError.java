package dev.mlinfra.registry.mirror;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.ws.rs.core.Response;

/**
 * An error answer of MLflow: its HTTP status and MLflow's {@code error_code}
 * ({@code RESOURCE_ALREADY_EXISTS}, {@code RESOURCE_DOES_NOT_EXIST}, {@code INVALID_PARAMETER_VALUE}, ...),
 * empty when the answer came from something else (a proxy).
 */
public class MlflowError extends RuntimeException {

    public static final String ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS";
    public static final String DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST";
    private static final int BAD_REQUEST = 400;
    private static final int UNPROCESSABLE = 422;
    /** How much of a body that is not MLflow's error object makes it into the message. */
    private static final int BODY_EXCERPT = 200;
    /** Error bodies only; the API's own mapper would refuse the unknown fields MLflow may add. */
    private static final ObjectMapper ERRORS = new ObjectMapper();

    private final int status;
    private final String errorCode;

    public MlflowError(int status, String errorCode, String message) {
        super("MLflow answered " + status + (errorCode.isEmpty() ? "" : " " + errorCode) + ": " + message);
        this.status = status;
        this.errorCode = errorCode;
    }

    static MlflowError of(Response response) {
        String body = "";
        try {
            body = response.hasEntity() ? response.readEntity(String.class) : "";
        } catch (RuntimeException e) {
            // the status alone has to do
        }
        try {
            JsonNode error = ERRORS.readTree(body);
            if (error != null && error.hasNonNull("error_code")) {
                return new MlflowError(response.getStatus(), error.get("error_code").asText(), error.path("message").asText(""));
            }
        } catch (Exception e) {
            // not MLflow's error object
        }
        String excerpt = body.length() > BODY_EXCERPT ? body.substring(0, BODY_EXCERPT) + "..." : body;
        return new MlflowError(response.getStatus(), "", excerpt.isBlank() ? "(no body)" : excerpt);
    }

    public int status() {
        return status;
    }

    public String errorCode() {
        return errorCode;
    }

    public boolean alreadyExists() {
        return ALREADY_EXISTS.equals(errorCode);
    }

    public boolean doesNotExist() {
        return DOES_NOT_EXIST.equals(errorCode);
    }

    /**
     * MLflow refused the request itself (an invalid parameter): sending it again cannot succeed.
     * Everything else (unreachable, 5xx, 429, an expired token, a wrong URL) may pass once MLflow
     * or its configuration is back in order, so it is retried.
     */
    public boolean permanent() {
        return (status == BAD_REQUEST && !alreadyExists()) || status == UNPROCESSABLE;
    }

    /** Whether a failure is MLflow refusing the request for good (see {@link #permanent()}). */
    public static boolean isPermanent(Throwable failure) {
        return failure instanceof MlflowError e && e.permanent();
    }
}
