package dev.mlinfra.testsupport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mlinfra.commons.storage.ObjectStore;
import dev.mlinfra.commons.storage.S3Config;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The object store's streamed uploads against the devstack's S3 server. */
class ObjectStoreTest {

    private static final int MIB = 1024 * 1024;

    @BeforeAll
    static void s3() {
        Devstack.start(Set.of("s3"));
    }

    private static ObjectStore store(String secretKey) {
        return new ObjectStore(new S3Config() {
            public String endpoint() {
                return Devstack.s3Endpoint();
            }

            public String accessKey() {
                return Devstack.s3AccessKey();
            }

            public String secretKey() {
                return secretKey;
            }

            public String region() {
                return Devstack.s3Region();
            }

            public String bucket() {
                return "object-store-test";
            }

            public long partSize() {
                return 5L * MIB;
            }
        });
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        new Random(n).nextBytes(b);
        return b;
    }

    private static byte[] readBack(ObjectStore store, String key) throws IOException {
        try (InputStream in = store.get(key)) {
            return in.readAllBytes();
        }
    }

    private static String key() {
        return "t/" + UUID.randomUUID() + "/data.bin";
    }

    @Test
    void storesBodiesOfKnownAndUnknownLengthWholeAndExact() throws IOException {
        ObjectStore store = store(Devstack.s3SecretKey());
        // one request, several streamed parts, a last part of one byte, buffered parts, a body of exactly two parts
        int[] sizes = {0, 1000, 5 * MIB, 12 * MIB + 123, 10 * MIB + 1};
        for (int size : sizes) {
            byte[] body = bytes(size);
            String known = key();
            store.put(known, new ByteArrayInputStream(body), size, "application/octet-stream");
            assertArrayEquals(body, readBack(store, known), "known length " + size);
            String unknown = key();
            store.put(unknown, new ByteArrayInputStream(body), -1, "application/octet-stream");
            assertArrayEquals(body, readBack(store, unknown), "unknown length " + size);
        }
        byte[] twoParts = bytes(10 * MIB);
        String key = key();
        store.put(key, new ByteArrayInputStream(twoParts), -1, "application/octet-stream");
        assertArrayEquals(twoParts, readBack(store, key));
    }

    @Test
    void aBodyThatFailsMidwayStoresNothingAndSaysWhy() {
        ObjectStore store = store(Devstack.s3SecretKey());
        byte[] body = bytes(12 * MIB);
        for (long length : new long[] {body.length, -1}) {
            String key = key();
            InputStream breaking = new ByteArrayInputStream(body) {
                @Override
                public synchronized int read(byte[] b, int off, int len) {
                    if (pos > 7 * MIB) {
                        throw new UncheckedIOException(new IOException("connection reset by client"));
                    }
                    return super.read(b, off, len);
                }
            };
            InputStream failing = new InputStream() {
                @Override
                public int read() throws IOException {
                    throw new IOException("unused");
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    try {
                        return breaking.read(b, off, len);
                    } catch (UncheckedIOException e) {
                        throw e.getCause();
                    }
                }
            };
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> store.put(key, failing, length, "application/octet-stream"));
            assertEquals("connection reset by client", e.getCause().getMessage());
            assertFalse(store.exists(key), "nothing stored for length " + length);
            assertEquals(java.util.List.of(), store.incompleteUploads(key), "no parts left behind for length " + length);
        }
    }

    @Test
    void aBodyShorterThanItsLengthIsRefused() {
        ObjectStore store = store(Devstack.s3SecretKey());
        for (int size : new int[] {1000, 7 * MIB}) {
            String key = key();
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> store.put(key, new ByteArrayInputStream(bytes(size)), size + 10, "application/octet-stream"));
            assertTrue(e.getCause().getMessage().contains("ended after " + size + " bytes"), e.getCause().getMessage());
            assertFalse(store.exists(key));
        }
    }

    @Test
    void aRefusalOfTheStoreIsNotABodyFailure() {
        ObjectStore wrongKey = store("not-the-secret");
        ObjectStore.ObjectStoreException e = assertThrows(ObjectStore.ObjectStoreException.class,
                () -> wrongKey.put(key(), new ByteArrayInputStream(bytes(1000)), 1000, "application/octet-stream"));
        assertTrue(e.getMessage().matches("(?s).*(403|Access denied|SignatureDoesNotMatch).*"), e.getMessage());
    }

    /** Starts a multipart upload of {@code key} and stores one part, as a process does before it is killed. */
    private static void startAndAbandon(String key, byte[] part) throws Exception {
        okhttp3.OkHttpClient http = new okhttp3.OkHttpClient();
        okhttp3.HttpUrl base = okhttp3.HttpUrl.get(Devstack.s3Endpoint()).newBuilder().addPathSegment("object-store-test")
                .addPathSegments(key).build();
        String created = send(http, base.newBuilder().addQueryParameter("uploads", "").build(), "POST", new byte[0]);
        java.util.regex.Matcher id = java.util.regex.Pattern.compile("<UploadId>([^<]+)</UploadId>").matcher(created);
        assertTrue(id.find(), created);
        send(http, base.newBuilder().addQueryParameter("partNumber", "1").addQueryParameter("uploadId", id.group(1)).build(),
                "PUT", part);
    }

    private static String send(okhttp3.OkHttpClient http, okhttp3.HttpUrl url, String method, byte[] body) throws Exception {
        okhttp3.Request request = new okhttp3.Request.Builder().url(url).method(method, okhttp3.RequestBody.create(body))
                .header("Host", url.host() + ":" + url.port())
                .header("x-amz-date", java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)
                        .format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")))
                .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD").build();
        request = io.minio.Signer.signV4S3(request, Devstack.s3Region(), Devstack.s3AccessKey(), Devstack.s3SecretKey(),
                "UNSIGNED-PAYLOAD");
        try (okhttp3.Response response = http.newCall(request).execute()) {
            String text = response.body().string();
            assertTrue(response.isSuccessful(), method + " " + url + ": " + response.code() + " " + text);
            return text;
        }
    }

    @Test
    void removingAPrefixAlsoAbortsTheUploadsLeftUnfinishedThere() throws Exception {
        ObjectStore store = store(Devstack.s3SecretKey());
        String prefix = "t/" + UUID.randomUUID() + "/";
        String other = "t/" + UUID.randomUUID() + "/";
        store.put(prefix + "done.bin", new ByteArrayInputStream(bytes(1000)), 1000, "application/octet-stream");
        startAndAbandon(prefix + "v1/data.jsonl", bytes(5 * MIB));
        startAndAbandon(other + "data.jsonl", bytes(5 * MIB));
        assertEquals(java.util.List.of(prefix + "v1/data.jsonl"), store.incompleteUploads(prefix));

        assertEquals(1, store.removeAll(prefix), "the one finished object");
        assertEquals(java.util.List.of(), store.incompleteUploads(prefix), "the unfinished upload is aborted");
        assertFalse(store.exists(prefix + "done.bin"));
        assertEquals(java.util.List.of(other + "data.jsonl"), store.incompleteUploads(other), "other prefixes keep theirs");
        store.removeAll(other);
        assertEquals(java.util.List.of(), store.incompleteUploads(other));
    }
}
