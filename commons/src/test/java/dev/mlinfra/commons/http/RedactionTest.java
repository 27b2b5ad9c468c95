package dev.mlinfra.commons.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

/** What the access log keeps of a request URI: never a credential the client put into it. */
class RedactionTest {

    private static final String KEY = "mlk_0123456789abcdef_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012-_9";

    @Test
    void aKeyInTheQueryStringIsReplacedByTheMarker() {
        assertEquals("/v1/datasets?x-api-key=[REDACTED]", Redaction.uri("/v1/datasets?x-api-key=" + KEY));
        assertEquals("/v1/datasets?status=ready&api_key=[REDACTED]&limit=5",
                Redaction.uri("/v1/datasets?status=ready&api_key=" + KEY + "&limit=5"));
    }

    @Test
    void credentialParametersAreRedactedWhateverTheirCaseOrEncodingAndWhateverTheirValue() {
        for (String name : new String[] {"api_key", "API_KEY", "X-Api-Key", "x%2Dapi%2Dkey", "key", "Key", "token", "TOKEN",
                "access_token", "Access_Token", "apikey", "refresh_token", "client_secret", "password", "secret", "secret_key",
                "aws_secret_access_key", "X-Amz-Signature", "X-Amz-Credential", "signature", "sig", "auth", "pwd",
                "db_password", "session_token", "private_key"}) {
            assertEquals("/v1/models?" + name + "=[REDACTED]", Redaction.uri("/v1/models?" + name + "=s3cr3t-value"), name);
        }
    }

    @Test
    void textForUsersSaysWhatFailedButNotWhere() {
        assertEquals("Connection refused: [address]", Redaction.addresses("Connection refused: /127.0.0.1:26485"));
        assertEquals("Connection refused: [address]", Redaction.addresses("Connection refused: localhost/127.0.0.1:5432"));
        assertEquals("cannot reach [address] ([address])",
                Redaction.addresses("cannot reach http://minio.internal:9000/bucket?x=1 (kafka-0.kafka:9092)"));
        assertEquals("no answer from [address]", Redaction.addresses("no answer from [::1]:8080"));
        assertEquals("did not answer within 2000 ms", Redaction.addresses("did not answer within 2000 ms"));
        assertEquals("training-service: HTTP 503: not ready; version 4.1-IV1",
                Redaction.addresses("training-service: HTTP 503: not ready; version 4.1-IV1"));
        assertEquals(null, Redaction.addresses(null));
    }

    @Test
    void otherParametersAndPathsStayReadable() {
        assertEquals("/v1/datasets?status=ready&limit=10&offset=20",
                Redaction.uri("/v1/datasets?status=ready&limit=10&offset=20"));
        assertEquals("/v1/training/jobs/job-42/events", Redaction.uri("/v1/training/jobs/job-42/events"));
        assertEquals("/v1/models?monkey=banana&tokens=5", Redaction.uri("/v1/models?monkey=banana&tokens=5"));
        assertEquals("/v1/models?max_tokens=5&author=me&design=x", Redaction.uri("/v1/models?max_tokens=5&author=me&design=x"));
        assertEquals("/v1/models?", Redaction.uri("/v1/models?"));
        assertEquals("/v1/models?flag&x=", Redaction.uri("/v1/models?flag&x="));
    }

    @Test
    void aKeyShapedValueIsRedactedAnywhereInTheLine() {
        assertEquals("/v1/datasets/[REDACTED]/files", Redaction.uri("/v1/datasets/" + KEY + "/files"));
        assertEquals("/v1/models?q=[REDACTED]", Redaction.uri("/v1/models?q=" + KEY));
        assertEquals("/v1/models?q=Bearer%20[REDACTED]", Redaction.uri("/v1/models?q=Bearer%20" + KEY));
        assertEquals("/v1/models?[REDACTED]", Redaction.uri("/v1/models?" + KEY));
        String encoded = "/v1/models?q=MLK%5F0123456789abcdef%5F" + KEY.substring(21);
        assertFalse(Redaction.uri(encoded).contains(KEY.substring(21)), Redaction.uri(encoded));
    }

    @Test
    void aMalformedEscapeInAParameterNameDoesNotHideTheRest() {
        assertEquals("/v1/models?%zz=1&token=[REDACTED]", Redaction.uri("/v1/models?%zz=1&token=abc"));
    }
}
