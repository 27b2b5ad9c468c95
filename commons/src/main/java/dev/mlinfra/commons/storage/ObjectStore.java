package dev.mlinfra.commons.storage;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Blocking access to the object store; call it from worker threads only. Bodies are stored as
 * they are read ({@link StreamingUploads}): larger ones as multipart uploads of
 * {@link S3Config#partSize()} bytes, so memory stays bounded whatever the size.
 */
@Singleton
public class ObjectStore {

    private final MinioClient client;
    private final S3Config config;
    private final StreamingUploads uploads;
    private final AtomicBoolean bucketReady = new AtomicBoolean();

    public ObjectStore(S3Config config) {
        this.config = config;
        this.client = MinioClient.builder()
                .endpoint(config.endpoint())
                .credentials(config.accessKey(), config.secretKey())
                .region(config.region())
                .build();
        this.uploads = new StreamingUploads(config);
    }

    public String bucket() {
        return config.bucket();
    }

    /** The {@code s3://bucket/key} address of an object, as other services and trainers take it. */
    public String uri(String key) {
        return "s3://" + config.bucket() + "/" + key;
    }

    /**
     * Streams {@code body} into {@code key}: exactly {@code length} bytes, or everything up to the
     * end of the stream when {@code length} is -1 (then each part is buffered before it is sent).
     *
     * @throws UncheckedIOException when the body cannot be read or ends before {@code length} bytes
     *                              (nothing is stored)
     * @throws ObjectStoreException when the object store fails or refuses the upload
     */
    public void put(String key, InputStream body, long length, String contentType) {
        ensureBucket();
        uploads.put(key, body, length, contentType);
    }

    public InputStream get(String key) {
        return call(() -> client.getObject(GetObjectArgs.builder().bucket(config.bucket()).object(key).build()));
    }

    public boolean exists(String key) {
        try {
            client.statObject(StatObjectArgs.builder().bucket(config.bucket()).object(key).build());
            return true;
        } catch (ErrorResponseException e) {
            if ("NoSuchKey".equals(e.errorResponse().code()) || "NoSuchBucket".equals(e.errorResponse().code())) {
                return false;
            }
            throw new ObjectStoreException("Cannot read object " + key, e);
        } catch (Exception e) {
            throw new ObjectStoreException("Cannot read object " + key, e);
        }
    }

    /** The keys of multipart uploads under {@code prefix} that were started and never completed or aborted. */
    public List<String> incompleteUploads(String prefix) {
        ensureBucket();
        return uploads.incomplete(prefix).stream().map(StreamingUploads.Incomplete::key).toList();
    }

    /**
     * Removes every object under {@code prefix}, and aborts the multipart uploads there that never
     * finished (a process killed mid-upload leaves its parts behind); returns how many objects there were.
     */
    public int removeAll(String prefix) {
        ensureBucket();
        uploads.abortIncomplete(prefix);
        int removed = 0;
        Iterable<Result<Item>> items = client.listObjects(ListObjectsArgs.builder().bucket(config.bucket())
                .prefix(prefix).recursive(true).build());
        for (Result<Item> item : items) {
            String name = call(() -> item.get().objectName());
            call(() -> {
                client.removeObject(RemoveObjectArgs.builder().bucket(config.bucket()).object(name).build());
                return null;
            });
            removed++;
        }
        return removed;
    }

    /**
     * Creates the bucket if it is missing, once. A store that cannot be reached fails with an
     * {@link ObjectStoreException}, as the store's refusals do: an {@link UncheckedIOException}
     * from {@link #put} means the body could not be read.
     */
    private void ensureBucket() {
        if (bucketReady.get()) {
            return;
        }
        try {
            createBucketIfMissing();
        } catch (UncheckedIOException e) {
            throw new ObjectStoreException("the object store cannot be reached: " + e.getCause().getMessage(), e.getCause());
        }
        bucketReady.set(true);
    }

    private void createBucketIfMissing() {
        call(() -> {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(config.bucket()).build())) {
                try {
                    client.makeBucket(MakeBucketArgs.builder().bucket(config.bucket()).region(config.region()).build());
                } catch (ErrorResponseException e) {
                    if (!"BucketAlreadyOwnedByYou".equals(e.errorResponse().code())
                            && !"BucketAlreadyExists".equals(e.errorResponse().code())) {
                        throw e;
                    }
                }
            }
            return null;
        });
    }

    @FunctionalInterface
    private interface StoreCall<T> {
        T run() throws Exception;
    }

    private static <T> T call(StoreCall<T> call) {
        try {
            return call.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new ObjectStoreException(e.getMessage(), e);
        }
    }

    /** A failure of the object store itself (not of the caller's data). */
    public static class ObjectStoreException extends RuntimeException {
        public ObjectStoreException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
