package dev.mlinfra.engine.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The miniature's architecture as a Hugging Face style {@code config.json} (field names follow
 * {@code Llama4TextConfig}). Unknown fields are ignored so that real Llama 4 configs parse too.
 *
 * @param architectures          HF architecture names
 * @param modelType              HF model type ({@code llama4_text})
 * @param mlinfraVariant         which Llama 4 model this miniature mirrors: {@code scout} or {@code maverick}
 * @param vocabSize              vocabulary size (tokenizer ids are below it)
 * @param hiddenSize             width of the residual stream
 * @param intermediateSize       hidden width of each routed expert and of the shared expert
 * @param intermediateSizeMlp    hidden width of the dense feed-forward layers
 * @param numHiddenLayers        decoder layers
 * @param numAttentionHeads      query heads
 * @param numKeyValueHeads       key/value heads (grouped-query attention)
 * @param headDim                width of one head
 * @param numLocalExperts        routed experts per MoE layer
 * @param numExpertsPerTok       experts each token is routed to (top-k)
 * @param moeLayers              indices of the layers whose feed-forward is a mixture of experts
 * @param noRopeLayers           per layer: 1 applies rotary embeddings, 0 attends without positions (NoPE)
 * @param useQkNorm              L2-normalise queries and keys after RoPE
 * @param ropeTheta              RoPE base
 * @param rmsNormEps             RMSNorm epsilon
 * @param maxPositionEmbeddings  longest sequence (prompt + generation)
 * @param initializerRange       standard deviation of the seeded initialisation
 * @param mlinfraInitSeed        seed of the base weights
 * @param mlinfraInitVersion     version of the initialisation scheme (a change re-creates cached bases)
 * @param bosTokenId             begin-of-text id
 * @param eosTokenId             ids that end generation
 * @param padTokenId             padding id
 * @param tieWordEmbeddings      share input and output embeddings
 * @param torchDtype             storage dtype of the weights
 * @param mlinfraBase            which base these are the weights of: {@code pretrained-vN} (the bundled,
 *                               pretrained weights) or {@code seeded-init-vN} (the seeded initialisation);
 *                               adapters record it and are only applied to the same base
 * @param mlinfraBaseSha256      SHA-256 of the bundled base's {@code model.safetensors} (pretrained bases only)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelConfig(
        List<String> architectures,
        String modelType,
        String mlinfraVariant,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int intermediateSizeMlp,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        int numLocalExperts,
        int numExpertsPerTok,
        List<Integer> moeLayers,
        List<Integer> noRopeLayers,
        boolean useQkNorm,
        double ropeTheta,
        double rmsNormEps,
        int maxPositionEmbeddings,
        double initializerRange,
        long mlinfraInitSeed,
        int mlinfraInitVersion,
        int bosTokenId,
        List<Integer> eosTokenId,
        int padTokenId,
        boolean tieWordEmbeddings,
        String torchDtype,
        String mlinfraBase,
        String mlinfraBaseSha256) {

    /** Prefix of {@link #mlinfraBase} for the seeded initialisation. */
    public static final String SEEDED_BASE_PREFIX = "seeded-init-v";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Validates the shape relations the model relies on. */
    public ModelConfig {
        require(hiddenSize > 0 && numHiddenLayers > 0 && vocabSize > 0, "sizes must be positive");
        require(numAttentionHeads % Math.max(1, numKeyValueHeads) == 0,
                "num_attention_heads must be a multiple of num_key_value_heads");
        require(headDim % 2 == 0, "head_dim must be even (rotary embeddings)");
        require(numExpertsPerTok <= numLocalExperts, "num_experts_per_tok cannot exceed num_local_experts");
        moeLayers = moeLayers == null ? List.of() : List.copyOf(moeLayers);
        noRopeLayers = noRopeLayers == null ? List.of() : List.copyOf(noRopeLayers);
        eosTokenId = eosTokenId == null ? List.of() : List.copyOf(eosTokenId);
    }

    /** A configuration without base identity (tests and architecture experiments): the seeded initialisation. */
    public ModelConfig(List<String> architectures, String modelType, String mlinfraVariant, int vocabSize, int hiddenSize,
            int intermediateSize, int intermediateSizeMlp, int numHiddenLayers, int numAttentionHeads, int numKeyValueHeads,
            int headDim, int numLocalExperts, int numExpertsPerTok, List<Integer> moeLayers, List<Integer> noRopeLayers,
            boolean useQkNorm, double ropeTheta, double rmsNormEps, int maxPositionEmbeddings, double initializerRange,
            long mlinfraInitSeed, int mlinfraInitVersion, int bosTokenId, List<Integer> eosTokenId, int padTokenId,
            boolean tieWordEmbeddings, String torchDtype) {
        this(architectures, modelType, mlinfraVariant, vocabSize, hiddenSize, intermediateSize, intermediateSizeMlp,
                numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim, numLocalExperts, numExpertsPerTok, moeLayers,
                noRopeLayers, useQkNorm, ropeTheta, rmsNormEps, maxPositionEmbeddings, initializerRange, mlinfraInitSeed,
                mlinfraInitVersion, bosTokenId, eosTokenId, padTokenId, tieWordEmbeddings, torchDtype, null, null);
    }

    /**
     * The base these weights are, for adapters to record: {@link #mlinfraBase}, or for a config that
     * names none (written before bases had names) the seeded initialisation of its init version.
     */
    public String baseId() {
        return mlinfraBase != null ? mlinfraBase : SEEDED_BASE_PREFIX + mlinfraInitVersion;
    }

    /** True for a seeded initialisation (random weights), false for pretrained weights. */
    @JsonIgnore
    public boolean isSeededBase() {
        return baseId().startsWith(SEEDED_BASE_PREFIX);
    }

    /** This config naming another base (its architecture unchanged). */
    public ModelConfig withBase(String base, String sha256) {
        return new ModelConfig(architectures, modelType, mlinfraVariant, vocabSize, hiddenSize, intermediateSize,
                intermediateSizeMlp, numHiddenLayers, numAttentionHeads, numKeyValueHeads, headDim, numLocalExperts,
                numExpertsPerTok, moeLayers, noRopeLayers, useQkNorm, ropeTheta, rmsNormEps, maxPositionEmbeddings,
                initializerRange, mlinfraInitSeed, mlinfraInitVersion, bosTokenId, eosTokenId, padTokenId, tieWordEmbeddings,
                torchDtype, base, sha256);
    }

    /** The seeded initialisation of this architecture. */
    public ModelConfig seeded() {
        return withBase(SEEDED_BASE_PREFIX + mlinfraInitVersion, null);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("invalid model config: " + message);
        }
    }

    /** True when layer {@code i}'s feed-forward is a mixture of experts. */
    public boolean isMoeLayer(int i) {
        return moeLayers.contains(i);
    }

    /** True when layer {@code i} applies rotary position embeddings. */
    public boolean usesRope(int i) {
        return noRopeLayers.isEmpty() || noRopeLayers.get(i) != 0;
    }

    /** Parameters in the model (all experts counted). */
    public long parameterCount() {
        return parameterCount(false);
    }

    /** Parameters a single token passes through (only its top-k routed experts counted). */
    public long activeParameterCount() {
        return parameterCount(true);
    }

    private long parameterCount(boolean activeOnly) {
        long h = hiddenSize;
        long attention = h * numAttentionHeads * headDim * 2 + 2 * h * numKeyValueHeads * headDim + 2 * h;
        long dense = 3 * h * intermediateSizeMlp;
        long expert = 3 * h * intermediateSize;
        long experts = activeOnly ? numExpertsPerTok : numLocalExperts;
        long moe = h * numLocalExperts + expert + experts * expert;
        long total = (tieWordEmbeddings ? 1 : 2) * (long) vocabSize * h + h;
        for (int i = 0; i < numHiddenLayers; i++) {
            total += attention + (isMoeLayer(i) ? moe : dense);
        }
        return total;
    }

    /** Reads a config.json file. */
    public static ModelConfig read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), ModelConfig.class);
    }

    /** Parses config.json bytes. */
    public static ModelConfig parse(byte[] json) throws IOException {
        return JSON.readValue(json, ModelConfig.class);
    }

    /** The bundled configuration of a model type ({@code scout} or {@code maverick}). */
    public static ModelConfig builtin(String modelType) {
        String resource = "/models/" + modelType + "/config.json";
        try (InputStream in = ModelConfig.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("unknown model type '" + modelType + "' (expected scout or maverick)");
            }
            return JSON.readValue(in, ModelConfig.class);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource, e);
        }
    }

    /** The config as pretty-printed JSON. */
    public byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes config.json. */
    public void write(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, toJson());
    }
}
