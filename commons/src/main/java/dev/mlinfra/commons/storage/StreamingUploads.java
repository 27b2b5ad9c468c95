package dev.mlinfra.commons.storage;

import io.minio.Signer;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.ConnectionPool;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSink;

/**
 * Puts a stream into the object store as it is read. Requests are signed with
 * {@code UNSIGNED-PAYLOAD}, so no byte is hashed or buffered for the signature: when the length
 * is known, every part is sent straight from the source to the socket, and reading the source
 * never waits for a part to be hashed first. Bodies larger than one part go up as a multipart
 * upload; a failed one is aborted, so no parts are left behind.
 *
 * <p>When the length is not known (a chunked request), parts are read into one buffer of the part
 * size before each is sent, since S3 needs every part's length up front.
 */
final class StreamingUploads {

    /** S3 allows at most this many parts in one upload. */
    static final int MAX_PARTS = 10_000;
    private static final String UNSIGNED = "UNSIGNED-PAYLOAD";
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private static final Pattern UPLOAD_ID = Pattern.compile("<UploadId>([^<]+)</UploadId>");
    private static final Pattern ERROR_CODE = Pattern.compile("<Code>([^<]+)</Code>");
    private static final Pattern UPLOAD = Pattern.compile("<Upload>(.*?)</Upload>", Pattern.DOTALL);
    private static final Pattern KEY = Pattern.compile("<Key>([^<]*)</Key>");
    private static final Pattern NEXT_KEY_MARKER = Pattern.compile("<NextKeyMarker>([^<]*)</NextKeyMarker>");
    private static final Pattern NEXT_UPLOAD_ID_MARKER = Pattern.compile("<NextUploadIdMarker>([^<]*)</NextUploadIdMarker>");
    private static final int COPY_BUFFER = 64 * 1024;
    /** Bytes gathered into one write to the store's socket. */
    private static final int SOCKET_WRITE = 256 * 1024;
    /**
     * Parts sent before the answer to the earliest is awaited: the next part streams while the
     * store still writes the previous one, so reading the source does not stop at every part.
     */
    private static final int PARTS_IN_FLIGHT = 2;
    private static final AtomicInteger SENDER_THREADS = new AtomicInteger();
    /** Threads that send parts and wait for their answers (at most {@link #PARTS_IN_FLIGHT} per upload). */
    private final ExecutorService senders = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "object-store-upload-" + SENDER_THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    private final OkHttpClient http;
    private final HttpUrl endpoint;
    private final S3Config config;

    StreamingUploads(S3Config config) {
        this.config = config;
        this.endpoint = HttpUrl.get(config.endpoint());
        this.http = new OkHttpClient.Builder()
                .connectTimeout(Duration.ofSeconds(10))
                .writeTimeout(Duration.ofMinutes(2))
                .readTimeout(Duration.ofMinutes(5))
                .retryOnConnectionFailure(false)
                // A body streams once, so no request is sent again on another connection: none is reused after
                // idling longer than object stores keep one open (s3proxy's Jetty closed them after tens of
                // seconds, and the next listing read "unexpected end of stream"), rather than OkHttp's 5 minutes.
                .connectionPool(new ConnectionPool(8, 10, TimeUnit.SECONDS))
                .socketFactory(new GatheringSocketFactory(SOCKET_WRITE))
                .build();
    }

    /**
     * Stores {@code length} bytes of {@code body} (or all of it when {@code length} is -1) under
     * {@code key}. A body that cannot be read, or ends before {@code length} bytes, throws
     * {@link UncheckedIOException}; a refusal of the store throws {@link ObjectStore.ObjectStoreException}.
     */
    void put(String key, InputStream body, long length, String contentType) {
        Source source = new Source(body);
        long partSize = partSize(length);
        if (length >= 0 && length <= partSize) {
            putObject(key, source, length, contentType);
        } else if (length >= 0) {
            multipart(key, source, contentType, new KnownParts(source, length, partSize));
        } else {
            byte[] buffer = new byte[(int) partSize];
            int first = source.fill(buffer);
            if (first < buffer.length) {
                putObject(key, new Source(new ByteArrayInputStream(buffer, 0, first)), first, contentType);
            } else {
                multipart(key, source, contentType, new BufferedParts(source, buffer));
            }
        }
    }

    /** The configured part size, raised when a known length would need more than {@link #MAX_PARTS} parts. */
    long partSize(long length) {
        long size = Math.max(config.partSize(), 5L * 1024 * 1024);
        if (length > size * MAX_PARTS) {
            size = (length + MAX_PARTS - 1) / MAX_PARTS;
        }
        return length < 0 ? Math.min(size, Integer.MAX_VALUE - 8) : size;
    }

    private void putObject(String key, Source source, long length, String contentType) {
        Request.Builder request = request(objectUrl(key).build(), "PUT", source.body(length))
                .header("Content-Type", contentType);
        call(request, source, "store " + key);
    }

    private void multipart(String key, Source source, String contentType, Parts parts) {
        HttpUrl create = objectUrl(key).addQueryParameter("uploads", "").build();
        String created = call(request(create, "POST", RequestBody.create(new byte[0])).header("Content-Type", contentType),
                source, "start the upload of " + key).body;
        Matcher id = UPLOAD_ID.matcher(created);
        if (!id.find()) {
            throw new ObjectStore.ObjectStoreException("the object store started no upload for " + key + ": " + created, null);
        }
        String uploadId = id.group(1);
        List<CompletableFuture<String>> etags = new ArrayList<>();
        try {
            RequestBody part;
            while ((part = parts.next()) != null) {
                int number = etags.size() + 1;
                HttpUrl url = objectUrl(key).addQueryParameter("partNumber", Integer.toString(number))
                        .addQueryParameter("uploadId", uploadId).build();
                if (etags.size() >= PARTS_IN_FLIGHT) {
                    etags.get(etags.size() - PARTS_IN_FLIGHT).join();
                }
                etags.add(send(url, part, source, "store part " + number + " of " + key));
            }
            List<String> tags = new ArrayList<>();
            for (CompletableFuture<String> etag : etags) {
                tags.add(etag.join());
            }
            StringBuilder done = new StringBuilder("<CompleteMultipartUpload>");
            for (int i = 0; i < tags.size(); i++) {
                done.append("<Part><PartNumber>").append(i + 1).append("</PartNumber><ETag>").append(xml(tags.get(i)))
                        .append("</ETag></Part>");
            }
            done.append("</CompleteMultipartUpload>");
            HttpUrl complete = objectUrl(key).addQueryParameter("uploadId", uploadId).build();
            Result answer = call(request(complete, "POST", RequestBody.create(done.toString().getBytes(StandardCharsets.UTF_8)))
                    .header("Content-Type", "application/xml"), source, "complete the upload of " + key);
            // S3 answers a completion with 200 before it is done (to keep the connection alive) and
            // reports a failure in the body, or cuts the body short: only a whole result is success.
            if (!answer.body.contains("</CompleteMultipartUploadResult>")) {
                Matcher error = ERROR_CODE.matcher(answer.body);
                throw new ObjectStore.ObjectStoreException("the object store could not complete " + key + ": "
                        + (answer.body.contains("<Error>") && error.find() ? error.group(1) : "its answer ended before the result"), null);
            }
        } catch (CompletionException e) {
            RuntimeException cause = e.getCause() instanceof RuntimeException r ? r : e;
            etags.forEach(f -> f.exceptionally(ignored -> null).join());
            abort(key, uploadId, cause);
            throw cause;
        } catch (RuntimeException e) {
            etags.forEach(f -> f.exceptionally(ignored -> null).join());
            abort(key, uploadId, e);
            throw e;
        }
    }

    /**
     * Sends one part on a sender thread and returns once its body has been read from the source
     * (or the part failed), so that the next part can follow while this one waits for its answer.
     * The future holds the part's ETag.
     */
    private CompletableFuture<String> send(HttpUrl url, RequestBody part, Source source, String what) {
        CompletableFuture<Void> written = new CompletableFuture<>();
        RequestBody body = new RequestBody() {
            @Override
            public MediaType contentType() {
                return part.contentType();
            }

            @Override
            public long contentLength() throws IOException {
                return part.contentLength();
            }

            @Override
            public boolean isOneShot() {
                return true;
            }

            @Override
            public void writeTo(BufferedSink sink) throws IOException {
                try {
                    part.writeTo(sink);
                } finally {
                    written.complete(null);
                }
            }
        };
        CompletableFuture<String> etag = CompletableFuture.supplyAsync(() -> {
            try {
                return call(request(url, "PUT", body), source, what).etag;
            } finally {
                written.complete(null);
            }
        }, senders);
        written.join();
        return etag;
    }

    /** A multipart upload that was started and neither completed nor aborted (its parts take space). */
    record Incomplete(String key, String uploadId) {
    }

    /** The incomplete multipart uploads under {@code prefix}, e.g. of a process that was killed mid-upload. */
    List<Incomplete> incomplete(String prefix) {
        List<Incomplete> found = new ArrayList<>();
        String keyMarker = null;
        String uploadIdMarker = null;
        while (true) {
            HttpUrl.Builder url = endpoint.newBuilder().addPathSegment(config.bucket()).addQueryParameter("uploads", "")
                    .addQueryParameter("prefix", prefix);
            if (keyMarker != null) {
                url.addQueryParameter("key-marker", keyMarker).addQueryParameter("upload-id-marker", uploadIdMarker);
            }
            String listing = call(request(url.build(), "GET", null), null, "list the unfinished uploads under " + prefix).body;
            Matcher upload = UPLOAD.matcher(listing);
            while (upload.find()) {
                Matcher key = KEY.matcher(upload.group(1));
                Matcher id = UPLOAD_ID.matcher(upload.group(1));
                if (key.find() && id.find()) {
                    found.add(new Incomplete(unxml(key.group(1)), unxml(id.group(1))));
                }
            }
            Matcher nextKey = NEXT_KEY_MARKER.matcher(listing);
            Matcher nextId = NEXT_UPLOAD_ID_MARKER.matcher(listing);
            if (!listing.contains("<IsTruncated>true</IsTruncated>") || !nextKey.find() || !nextId.find()) {
                return found;
            }
            keyMarker = unxml(nextKey.group(1));
            uploadIdMarker = unxml(nextId.group(1));
        }
    }

    /** Aborts the incomplete multipart uploads under {@code prefix}, so their parts are removed; returns how many. */
    int abortIncomplete(String prefix) {
        List<Incomplete> incomplete = incomplete(prefix);
        for (Incomplete upload : incomplete) {
            call(request(objectUrl(upload.key()).addQueryParameter("uploadId", upload.uploadId()).build(), "DELETE", null),
                    null, "abort the upload of " + upload.key());
        }
        return incomplete.size();
    }

    private void abort(String key, String uploadId, RuntimeException cause) {
        HttpUrl url = objectUrl(key).addQueryParameter("uploadId", uploadId).build();
        try {
            call(request(url, "DELETE", null), null, "abort the upload of " + key);
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    private HttpUrl.Builder objectUrl(String key) {
        HttpUrl.Builder url = endpoint.newBuilder().addPathSegment(config.bucket());
        for (String segment : key.split("/", -1)) {
            url.addPathSegment(segment);
        }
        return url;
    }

    private Request.Builder request(HttpUrl url, String method, RequestBody body) {
        return new Request.Builder().url(url).method(method, body)
                .header("Host", url.host() + (url.port() == HttpUrl.defaultPort(url.scheme()) ? "" : ":" + url.port()))
                .header("x-amz-date", ZonedDateTime.now(ZoneOffset.UTC).format(AMZ_DATE))
                .header("x-amz-content-sha256", UNSIGNED);
    }

    private record Result(String body, String etag) {
    }

    /** Signs and runs a request; tells a failure to read the source apart from a failure of the store. */
    private Result call(Request.Builder builder, Source source, String what) {
        Request signed;
        try {
            signed = Signer.signV4S3(builder.build(), config.region(), config.accessKey(), config.secretKey(), UNSIGNED);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign a request to the object store", e);
        }
        try (Response response = http.newCall(signed).execute()) {
            String text = response.body() == null ? "" : response.body().string();
            if (!response.isSuccessful()) {
                Matcher code = ERROR_CODE.matcher(text);
                throw new ObjectStore.ObjectStoreException("the object store refused to " + what + ": HTTP " + response.code()
                        + (code.find() ? " " + code.group(1) : ""), null);
            }
            return new Result(text, response.header("ETag"));
        } catch (IOException e) {
            if (source != null && source.failure != null) {
                throw new UncheckedIOException(source.failure);
            }
            // A store that broke an exchange off (it restarted, say) left its other pooled connections dead
            // too: the next request opens a fresh one instead of failing on one of them.
            http.connectionPool().evictAll();
            throw new ObjectStore.ObjectStoreException("cannot " + what + ": " + e.getMessage(), e);
        }
    }

    private static String xml(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String unxml(String text) {
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'")
                .replace("&amp;", "&");
    }

    /** The body being stored; remembers why reading it failed. */
    private static final class Source {
        private final InputStream in;
        // read by the caller's thread, written by whichever thread sends the current part
        private volatile IOException failure;
        private long read;

        Source(InputStream in) {
            this.in = in;
        }

        /** A request body of the next {@code length} bytes, copied to the socket as they are read. */
        RequestBody body(long length) {
            return new RequestBody() {
                @Override
                public MediaType contentType() {
                    return null;
                }

                @Override
                public long contentLength() {
                    return length;
                }

                @Override
                public boolean isOneShot() {
                    return true;
                }

                @Override
                public void writeTo(BufferedSink sink) throws IOException {
                    byte[] buffer = new byte[(int) Math.min(COPY_BUFFER, Math.max(1, length))];
                    long left = length;
                    while (left > 0) {
                        int n = read(buffer, (int) Math.min(buffer.length, left));
                        if (n < 0) {
                            throw failed(new EOFException("the body ended after " + read + " bytes, "
                                    + "before the length it announced"));
                        }
                        sink.write(buffer, 0, n);
                        left -= n;
                    }
                }
            };
        }

        /** Reads until {@code buffer} is full or the body ends; returns the bytes read. */
        int fill(byte[] buffer) {
            int filled = 0;
            try {
                while (filled < buffer.length) {
                    int n = read(buffer, filled, buffer.length - filled);
                    if (n < 0) {
                        break;
                    }
                    filled += n;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return filled;
        }

        private int read(byte[] buffer, int len) throws IOException {
            return read(buffer, 0, len);
        }

        private int read(byte[] buffer, int off, int len) throws IOException {
            int n;
            try {
                n = in.read(buffer, off, len);
            } catch (IOException e) {
                throw failed(e);
            }
            if (n > 0) {
                read += n;
            }
            return n;
        }

        private IOException failed(IOException e) {
            failure = e;
            return e;
        }
    }

    /** The parts of an upload, one request body at a time; null after the last. */
    private interface Parts {
        RequestBody next();
    }

    /** Parts of a body of known length, each streamed from the source as it is sent. */
    private static final class KnownParts implements Parts {
        private final Source source;
        private final long partSize;
        private long left;

        KnownParts(Source source, long length, long partSize) {
            this.source = source;
            this.left = length;
            this.partSize = partSize;
        }

        @Override
        public RequestBody next() {
            if (left == 0) {
                return null;
            }
            long size = Math.min(partSize, left);
            left -= size;
            return source.body(size);
        }
    }

    /** Parts of a body of unknown length, read into one reused buffer; the first is already there. */
    private static final class BufferedParts implements Parts {
        private final Source source;
        private final byte[] buffer;
        private int filled;
        private boolean ended;

        BufferedParts(Source source, byte[] full) {
            this.source = source;
            this.buffer = full;
            this.filled = full.length;
        }

        @Override
        public RequestBody next() {
            if (filled == 0) {
                if (ended) {
                    return null;
                }
                filled = source.fill(buffer);
                ended = filled < buffer.length;
                if (filled == 0) {
                    return null;
                }
            }
            RequestBody part = RequestBody.create(buffer, null, 0, filled);
            filled = 0;
            return part;
        }
    }
}
