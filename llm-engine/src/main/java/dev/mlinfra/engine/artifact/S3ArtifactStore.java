package dev.mlinfra.engine.artifact;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.Result;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/** Artifacts below {@code s3://bucket/prefix}, through the MinIO client. */
public final class S3ArtifactStore implements ArtifactStore {

    private final MinioClient client;
    private final String bucket;
    private final String prefix;
    private volatile boolean bucketChecked;

    private S3ArtifactStore(MinioClient client, String bucket, String prefix) {
        this.client = client;
        this.bucket = bucket;
        this.prefix = prefix;
    }

    /** Opens {@code s3://bucket/prefix}. */
    public static S3ArtifactStore open(String location, S3Settings s3) {
        String rest = location.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1);
        if (bucket.isEmpty()) {
            throw new IllegalArgumentException("s3 location lacks a bucket: " + location);
        }
        if (!prefix.isEmpty() && !prefix.endsWith("/")) {
            prefix = prefix + "/";
        }
        MinioClient client = MinioClient.builder()
                .endpoint(s3.endpoint())
                .credentials(s3.accessKey(), s3.secretKey())
                .region(s3.region())
                .build();
        return new S3ArtifactStore(client, bucket, prefix);
    }

    private void ensureBucket() throws IOException {
        if (bucketChecked) {
            return;
        }
        try {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            }
            bucketChecked = true;
        } catch (Exception e) {
            throw new IOException("cannot use bucket " + bucket + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void put(String path, byte[] data) throws IOException {
        ensureBucket();
        try {
            client.putObject(PutObjectArgs.builder()
                    .bucket(bucket)
                    .object(prefix + path)
                    .stream(new ByteArrayInputStream(data), data.length, -1)
                    .contentType(path.endsWith(".json") ? "application/json" : "application/octet-stream")
                    .build());
        } catch (Exception e) {
            throw new IOException("cannot write " + uri(path) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] get(String path) throws IOException {
        InputStream stream = read(path);
        if (stream == null) {
            return null;
        }
        try (InputStream in = stream) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IOException("cannot read " + uri(path) + ": " + e.getMessage(), e);
        }
    }

    /** The object as the HTTP response streams it: nothing is held beyond the client's buffers. */
    @Override
    public InputStream read(String path) throws IOException {
        try {
            return client.getObject(GetObjectArgs.builder().bucket(bucket).object(prefix + path).build());
        } catch (ErrorResponseException e) {
            String code = e.errorResponse().code();
            if ("NoSuchKey".equals(code) || "NoSuchBucket".equals(code)) {
                return null;
            }
            throw new IOException("cannot read " + uri(path) + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("cannot read " + uri(path) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public List<String> list(String folder) throws IOException {
        String p = prefix + (folder.isEmpty() || folder.endsWith("/") ? folder : folder + "/");
        List<String> out = new ArrayList<>();
        try {
            for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(p).recursive(true).build())) {
                String name = r.get().objectName();
                // Some S3 servers list folder markers ("a/"); they are not files.
                if (!name.endsWith("/")) {
                    out.add(name.substring(prefix.length()));
                }
            }
        } catch (ErrorResponseException e) {
            if ("NoSuchBucket".equals(e.errorResponse().code())) {
                return List.of();
            }
            throw new IOException("cannot list " + uri(folder) + ": " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IOException("cannot list " + uri(folder) + ": " + e.getMessage(), e);
        }
        out.sort(null);
        return out;
    }

    @Override
    public String uri(String path) {
        return "s3://" + bucket + "/" + prefix + path;
    }
}
