package dev.mlinfra.datasets.rest;

import dev.mlinfra.commons.validation.MaxCharacters;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

/** The body of {@code POST /v1/datasets/upload}. */
public record NewDatasetRequest(
        @NotNull(message = "is required: " + NAME_RULE) @Pattern(regexp = NAME, message = "must be " + NAME_RULE) String name,
        @MaxCharacters(2000) String description,
        @NotNull(message = "is required: one of github, gitee") @Pattern(regexp = "github|gitee", message = "must be one of github, gitee") String source,
        @NotNull(message = "is required: one of json, jsonl") @Pattern(regexp = "jsonl?", message = "must be one of json, jsonl") String format,
        @NotNull(message = "is required: " + NAME_RULE) @Pattern(regexp = NAME, message = "must be " + NAME_RULE) String version) {

    static final String NAME = "[a-z0-9][a-z0-9._-]{0,62}";
    static final String NAME_RULE = "1-63 characters of lowercase letters, digits, '.', '_' and '-', "
            + "starting with a letter or digit";
}
