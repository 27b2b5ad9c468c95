package dev.mlinfra.gateway.route;

/** The error object a route's clients can parse. */
public enum ErrorStyle {
    /** The contract's {@code {"error": {"code", "message", "status"}}}. */
    CONTRACT,
    /**
     * OpenAI's {@code {"error": {"message", "type", "param", "code"}}}, on the OpenAI-compatible
     * routes, so that the OpenAI SDKs raise their own typed errors with our message.
     */
    OPENAI
}
