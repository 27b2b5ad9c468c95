package dev.mlinfra.inference.service;

/**
 * Who asks for an inference: the team whose models answer, and the identity token and request id
 * that travel on when a peer is asked on the caller's behalf.
 */
public record Caller(String team, String token, String requestId) {
}
