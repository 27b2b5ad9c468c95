package dev.mlinfra.commons.json;

import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.NumberDeserializers;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.util.AccessPattern;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.TimeZone;

/**
 * JSON as the API conventions want it: snake_case names, strict request bodies (an unknown
 * field is an error, and a value of another JSON type than its field's is one too, never
 * converted: {@code 3.9} is no integer, {@code "2"} no number, {@code 1} no boolean, {@code 5} no
 * text; a field given twice is one too, never the last one kept; so is a second value after the
 * body, never dropped unread), absent values left out, and
 * UTC timestamps with second precision.
 */
@Singleton
public class JsonSetup implements ObjectMapperCustomizer {

    @Override
    public void customize(ObjectMapper mapper) {
        apply(mapper);
    }

    /** Also used outside CDI (event payloads, tests) so every JSON of the platform looks alike. */
    public static ObjectMapper apply(ObjectMapper mapper) {
        mapper.setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
        mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        mapper.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        // What was sent is what is stored: a job asked for 3.9 epochs was stored with 3.
        mapper.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        // {"epochs": 1, "epochs": 5} would train 5 epochs on a body that also says 1.
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        // {"epochs": 1}{"epochs": 5}: one body, one value; what follows it is refused, not dropped unread
        mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        mapper.coercionConfigFor(LogicalType.Integer).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Float).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Boolean).setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        mapper.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        mapper.disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
        mapper.setSerializationInclusion(JsonInclude.Include.NON_NULL);
        mapper.registerModule(new SimpleModule("mlinfra-time").addSerializer(Instant.class, new SecondsInstant()));
        // Jackson reads the texts "NaN" and "Infinity" as numbers even where texts are not converted: not here.
        mapper.registerModule(new SimpleModule("mlinfra-numbers")
                .addDeserializer(Double.class, new NoTextNumber<>(Double.class))
                .addDeserializer(double.class, new NoTextNumber<>(double.class))
                .addDeserializer(Float.class, new NoTextNumber<>(Float.class))
                .addDeserializer(float.class, new NoTextNumber<>(float.class)));
        // PostgreSQL would keep half a surrogate pair as "?": refused, not silently changed.
        mapper.registerModule(new SimpleModule("mlinfra-text").addDeserializer(String.class, new WholeCharacters()));
        // Where the Java time module is registered after this one, its serializer wins; it honours this format.
        mapper.configOverride(Instant.class).setFormat(JsonFormat.Value.forPattern("yyyy-MM-dd'T'HH:mm:ss'Z'")
                .withTimeZone(TimeZone.getTimeZone(ZoneOffset.UTC)));
        return mapper;
    }

    /** A floating-point number that is never read from a text, not even "NaN" or "Infinity". */
    static final class NoTextNumber<T> extends StdDeserializer<T> {
        private final JsonDeserializer<?> standard;

        NoTextNumber(Class<T> type) {
            super(type);
            this.standard = NumberDeserializers.find(type, type.getName());
        }

        @Override
        @SuppressWarnings("unchecked")
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.hasToken(JsonToken.VALUE_STRING)) {
                // the words of Jackson's own refusal of a text, which the error mapper reads
                throw MismatchedInputException.from(p, handledType(),
                        "Cannot coerce String value (\"" + p.getText() + "\") to `" + handledType().getName() + "` value");
            }
            return (T) standard.deserialize(p, ctxt);
        }

        @Override
        @SuppressWarnings("unchecked")
        public T getNullValue(DeserializationContext ctxt)
                throws JsonMappingException {
            return (T) standard.getNullValue(ctxt);
        }

        @Override
        public AccessPattern getNullAccessPattern() {
            return standard.getNullAccessPattern();
        }

        @Override
        public LogicalType logicalType() {
            return standard.logicalType();
        }
    }

    /**
     * A text read as Jackson reads it, refused when it holds half of a UTF-16 surrogate pair (a JSON
     * escape of D800 alone), which is no character and which no UTF-8 store keeps.
     */
    static final class WholeCharacters extends StdScalarDeserializer<String> {
        WholeCharacters() {
            super(String.class);
        }

        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            String text = StringDeserializer.instance.deserialize(p, ctxt);
            int unpaired = text == null ? -1 : unpairedSurrogateAt(text);
            if (unpaired >= 0) {
                throw new UnpairedSurrogate(p, text.charAt(unpaired));
            }
            return text;
        }

        @Override
        public LogicalType logicalType() {
            return LogicalType.Textual;
        }

        @Override
        public boolean isCachable() {
            return true;
        }

        @Override
        public Object getEmptyValue(DeserializationContext ctxt) {
            return "";
        }

        /** The index of the first surrogate that is not half of a pair, or -1. */
        static int unpairedSurrogateAt(String text) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    return i;
                }
            }
            return -1;
        }
    }

    /** A text with an unpaired surrogate; the error mapper names its field. */
    public static final class UnpairedSurrogate extends JsonMappingException {
        UnpairedSurrogate(JsonParser p, char surrogate) {
            super(p, String.format("the text holds \\u%04x, half of a UTF-16 surrogate pair, which is no character;"
                    + " send whole characters (as UTF-8, or both halves escaped)", (int) surrogate));
        }
    }

    static final class SecondsInstant extends StdSerializer<Instant> {
        SecondsInstant() {
            super(Instant.class);
        }

        @Override
        public void serialize(Instant value, JsonGenerator gen, SerializerProvider provider) throws IOException {
            gen.writeString(DateTimeFormatter.ISO_INSTANT.format(value.truncatedTo(ChronoUnit.SECONDS)));
        }
    }
}
