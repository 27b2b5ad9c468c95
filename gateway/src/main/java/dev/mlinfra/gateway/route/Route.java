package dev.mlinfra.gateway.route;

/**
 * Where a request goes: a backend service (or the gateway itself, {@code service == null}),
 * the rate-limit area it counts against, the scope it needs and whether it carries a file upload.
 */
public record Route(String service, String area, String scope, boolean upload) {

    public boolean local() {
        return service == null;
    }
}
