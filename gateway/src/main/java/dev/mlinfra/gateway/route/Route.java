package dev.mlinfra.gateway.route;

/**
 * Where a request goes: a backend service (or the gateway itself, {@code service == null}),
 * the rate-limit area it counts against, the scope it needs, what the service does before it
 * answers (a generation, a file upload) and the shape of the errors the gateway itself answers on it.
 */
public record Route(String service, String area, String scope, Exchange exchange, ErrorStyle errors) {

    public boolean local() {
        return service == null;
    }

    /** A dataset file upload: the large body limit. */
    public boolean upload() {
        return exchange == Exchange.UPLOAD;
    }
}
