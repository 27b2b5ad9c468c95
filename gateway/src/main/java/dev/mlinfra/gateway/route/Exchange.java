package dev.mlinfra.gateway.route;

/**
 * What a service does before it answers a route: it decides how long the service may stay silent
 * before the gateway answers 504, and for uploads the larger body limit.
 */
public enum Exchange {
    /** An ordinary request: {@code mlinfra.gateway.proxy.response-timeout}. */
    ANSWER,
    /**
     * A generation answered whole, which may take as long as the model needs:
     * {@code mlinfra.gateway.proxy.generation-response-timeout}, longer than inference-service's own
     * limit, so that its error, which says what went wrong, reaches the client first. (A streamed
     * generation is never silent that long.)
     */
    GENERATION,
    /** A dataset file upload, answered once the whole file is stored and validated: {@code upload-response-timeout}. */
    UPLOAD
}
