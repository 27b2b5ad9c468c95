package dev.mlinfra.modelserver.service;

import dev.mlinfra.engine.generate.SamplingParams;

/**
 * A validated request: which model, the prompt text (special tokens spelled out), how to sample,
 * and whether to stream.
 *
 * @param model         served model name (base or adapter), null for the base
 * @param prompt        prompt text
 * @param promptField   the request field the prompt came from ({@code prompt}, or {@code messages} for a chat)
 * @param sampling      sampling parameters
 * @param stream        answer as server-sent events
 * @param includeUsage  add a usage chunk at the end of a stream
 */
public record GenerationRequest(String model, String prompt, String promptField, SamplingParams sampling, boolean stream,
        boolean includeUsage) {
}
