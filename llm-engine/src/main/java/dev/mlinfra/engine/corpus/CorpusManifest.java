package dev.mlinfra.engine.corpus;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * What the pretraining corpus is made of: every source with its package coordinates, version,
 * license, download address and checksum, and how its text is extracted. The corpus builder
 * reads nothing else, so the same manifest always gives the same corpus.
 *
 * @param format       {@value #FORMAT}
 * @param heldoutEvery one document in this many (by a hash of its text) is held out for perplexity
 * @param minChars     documents shorter than this are dropped (field names, one-word notes)
 * @param sources      in corpus order; a document already taken from an earlier source is not repeated
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record CorpusManifest(String format, int heldoutEvery, int minChars, List<Source> sources) {

    public static final String FORMAT = "mlinfra-corpus-v1";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public CorpusManifest {
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException("corpus manifest format must be " + FORMAT + ", not " + format);
        }
        if (heldoutEvery < 2) {
            throw new IllegalArgumentException("heldout_every must be at least 2");
        }
        if (sources == null || sources.isEmpty()) {
            throw new IllegalArgumentException("a corpus manifest needs at least one source");
        }
        sources = List.copyOf(sources);
    }

    /**
     * One package that text comes from.
     *
     * @param name        short name, recorded with each document
     * @param registry    {@code maven} (Maven Central) or {@code npm} (the npm registry)
     * @param coordinates {@code group:artifact:version[:classifier]} or {@code name@version}
     * @param license     SPDX identifier of the package's license (permissive only)
     * @param url         where the archive is downloaded from
     * @param sha256      checksum of the archive; a download that differs is refused
     * @param extract     how documents are taken out of the archive
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonIgnoreProperties({"comment"})
    public record Source(String name, String registry, String coordinates, String license, String url, String sha256,
            Extract extract) {
    }

    /**
     * @param type    {@code swagger-annotations} (the description strings of {@code @ApiModel} and
     *                {@code @ApiModelProperty} in Java sources) or {@code doc-comments} ({@code /** ... * /}
     *                blocks of JavaScript/TypeScript declarations, {@code @description} included)
     * @param include glob patterns of archive entries to read
     * @param exclude glob patterns of archive entries to skip
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Extract(String type, List<String> include, List<String> exclude) {
        public Extract {
            include = include == null ? List.of("**") : List.copyOf(include);
            exclude = exclude == null ? List.of() : List.copyOf(exclude);
        }
    }

    public static CorpusManifest read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), CorpusManifest.class);
    }
}
