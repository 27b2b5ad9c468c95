package dev.mlinfra.inference.service;

import dev.mlinfra.commons.error.ApiException;
import dev.mlinfra.commons.error.ErrorCode;

/** A 400 about one request parameter, which the OpenAI-compatible route names in {@code error.param}. */
public final class ParamRefusal extends ApiException {

    private final String param;

    public ParamRefusal(String param, String message) {
        super(ErrorCode.INVALID_REQUEST, message);
        this.param = param;
    }

    public String param() {
        return param;
    }
}
