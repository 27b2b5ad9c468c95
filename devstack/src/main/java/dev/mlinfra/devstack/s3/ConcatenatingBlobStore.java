package dev.mlinfra.devstack.s3;

import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.domain.Blob;
import org.jclouds.blobstore.domain.BlobMetadata;
import org.jclouds.blobstore.domain.MultipartPart;
import org.jclouds.blobstore.domain.MultipartUpload;
import org.jclouds.blobstore.util.ForwardingBlobStore;
import org.jclouds.io.ContentMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * The jclouds filesystem store with a multipart completion that costs what it costs on S3 or
 * MinIO: the part files are joined inside the kernel ({@link FileChannel#transferTo}) and the
 * result is renamed into place. The filesystem backend itself completes an upload by reading
 * every part back and writing the whole object again through an 8 KiB buffer, so completing a
 * large upload took as long as storing a large part of it.
 *
 * <p>Everything else, including the object's metadata, stays with the backend: the object is
 * first stored empty under a temporary name with the metadata and the multipart ETag the backend
 * would give it, the parts are appended to that file, and the file is renamed over the object's
 * name (its metadata lives in the file's extended attributes, which move with it). The parts
 * and the upload's own record are then removed by the backend's abort. Where the files are not
 * laid out as expected, the backend's own completion runs.
 */
final class ConcatenatingBlobStore extends ForwardingBlobStore {

    private static final Logger LOG = LoggerFactory.getLogger(ConcatenatingBlobStore.class);
    /** How the filesystem backend names a stored part: {@code .mpus-<upload id>-<object name>-<part number>}. */
    private static final String PART_PREFIX = ".mpus-";

    private final Path baseDir;

    ConcatenatingBlobStore(BlobStore delegate, Path baseDir) {
        super(delegate);
        this.baseDir = baseDir;
    }

    @Override
    public String completeMultipartUpload(MultipartUpload upload, List<MultipartPart> parts) {
        Path container = baseDir.resolve(upload.containerName());
        List<MultipartPart> ordered = new ArrayList<>(parts);
        ordered.sort(Comparator.comparingInt(MultipartPart::partNumber));
        List<Path> files = new ArrayList<>(ordered.size());
        MessageDigest md5 = md5();
        for (MultipartPart part : ordered) {
            String name = PART_PREFIX + upload.id() + "-" + upload.blobName() + "-" + part.partNumber();
            BlobMetadata stored = delegate().blobMetadata(upload.containerName(), name);
            Path file = container.resolve(name).normalize();
            if (stored == null || stored.getETag() == null || !file.startsWith(container) || !Files.isRegularFile(file)) {
                // not what this class expects: the backend completes it (or reports the missing part)
                return delegate().completeMultipartUpload(upload, parts);
            }
            md5.update(HexFormat.of().parseHex(unquoted(stored.getETag())));
            files.add(file);
        }
        String eTag = "\"" + HexFormat.of().formatHex(md5.digest()) + "-" + ordered.size() + "\"";

        String temporaryName = PART_PREFIX + upload.id() + "-complete";
        Path temporary = container.resolve(temporaryName);
        Path target = container.resolve(upload.blobName()).normalize();
        if (!target.startsWith(container)) {
            return delegate().completeMultipartUpload(upload, parts);
        }
        delegate().putBlob(upload.containerName(), emptyBlobWithMetadata(temporaryName, upload, eTag));
        try {
            // not opened for appending: the JDK copies between files in the kernel (copy_file_range) only then
            try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                long position = 0;
                for (Path file : files) {
                    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
                        long size = in.size();
                        out.position(position);
                        for (long done = 0; done < size; ) {
                            done += in.transferTo(done, size - done, out);
                        }
                        position += size;
                    }
                }
            }
            Files.createDirectories(target.getParent());
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            delegate().removeBlob(upload.containerName(), temporaryName);
            throw new IllegalStateException("Completing multipart upload " + upload.id() + " of " + upload.blobName() + " failed", e);
        }
        // removes the parts and the upload's record
        delegate().abortMultipartUpload(upload);
        if (upload.putOptions() != null && upload.putOptions().getBlobAccess() != null) {
            delegate().setBlobAccess(upload.containerName(), upload.blobName(), upload.putOptions().getBlobAccess());
        }
        LOG.debug("completed multipart upload {} of {}/{} from {} parts", upload.id(), upload.containerName(), upload.blobName(), files.size());
        return eTag;
    }

    /** An empty blob named NAME with the upload's metadata and the given multipart ETag (which the backend stores without hashing). */
    private Blob emptyBlobWithMetadata(String name, MultipartUpload upload, String eTag) {
        BlobMetadata metadata = upload.blobMetadata();
        var builder = blobBuilder(name).payload(new byte[0]).contentLength(0).eTag(eTag);
        if (metadata != null) {
            if (metadata.getUserMetadata() != null) {
                builder.userMetadata(metadata.getUserMetadata());
            }
            ContentMetadata content = metadata.getContentMetadata();
            if (content != null) {
                setIfPresent(content.getCacheControl(), builder::cacheControl);
                setIfPresent(content.getContentDisposition(), builder::contentDisposition);
                setIfPresent(content.getContentEncoding(), builder::contentEncoding);
                setIfPresent(content.getContentLanguage(), builder::contentLanguage);
                setIfPresent(content.getContentType(), builder::contentType);
                setIfPresent(content.getExpires(), builder::expires);
            }
            if (metadata.getTier() != null) {
                builder.tier(metadata.getTier());
            }
        }
        return builder.build();
    }

    private static <T> void setIfPresent(T value, java.util.function.Consumer<T> setter) {
        if (value != null) {
            setter.accept(value);
        }
    }

    private static String unquoted(String eTag) {
        return eTag.length() >= 2 && eTag.startsWith("\"") && eTag.endsWith("\"") ? eTag.substring(1, eTag.length() - 1) : eTag;
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
