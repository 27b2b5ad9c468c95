package dev.mlinfra.gateway.route;

/**
 * Where a request goes: a backend service (or the gateway itself, {@code service == null}),
 * the rate-limit area it counts against, the scope it needs, whether it carries a file upload,
 * and the shape of the errors the gateway itself answers on it.
 */
public record Route(String service, String area, String scope, boolean upload, ErrorStyle errors) {

    public boolean local() {
        return service == null;
    }
}
