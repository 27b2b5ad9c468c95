package dev.mlinfra.devstack.s3;

import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.domain.Blob;
import org.jclouds.blobstore.domain.BlobMetadata;
import org.jclouds.blobstore.domain.MultipartPart;
import org.jclouds.blobstore.domain.MultipartUpload;
import org.jclouds.blobstore.util.ForwardingBlobStore;
import org.jclouds.io.ContentMetadata;
import org.jclouds.io.Payload;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The jclouds filesystem store with multipart uploads that cost what they cost on S3 or MinIO.
 * The backend stores every part as a file of its own and completes an upload by reading all of
 * them back and writing the whole object again through an 8 KiB buffer, so a large upload was
 * written twice and its completion took as long as a large part of the upload.
 *
 * <p>Here the parts of an upload are written straight into one file, each at its place: part
 * {@code n} at {@code (n - 1) × size of part 1} (clients send equal parts, all but the last).
 * The backend still gets a record of every part (an empty file of the part's length, sparse on
 * disk, with the part's MD5), so listing the parts and S3's checks at completion work as before.
 * Completion then only renames the assembled file into place, with the metadata the backend
 * writes for the object. Parts that cannot be placed (part 1 not seen yet, a part larger than
 * part 1) are stored by the backend as usual; an upload with such a part is completed by copying
 * the parts together inside the kernel ({@link FileChannel#transferTo}, i.e.
 * {@code copy_file_range}), never through the JVM.
 *
 * <p>Which parts were placed is known only to this process: a part record left by an earlier run
 * of the store is marked, and completing an upload with such a part fails instead of producing
 * an object with a hole.
 */
final class MultipartAssemblyBlobStore extends ForwardingBlobStore {

    private static final Logger LOG = LoggerFactory.getLogger(MultipartAssemblyBlobStore.class);
    /** How the filesystem backend names what belongs to an upload: {@code .mpus-<upload id>-…}; listings skip these names. */
    private static final String UPLOAD_PREFIX = ".mpus-";
    /** The (user-defined) attribute in which the backend keeps a blob's MD5, its ETag: named as the backend names it. */
    private static final String MD5_ATTRIBUTE = "user.content-md5";
    /** Marks a part record whose bytes live in an assembly file (the attribute's value is the upload id). */
    private static final String PLACED_ATTRIBUTE = "mlinfra-placed-part";
    private static final int COPY_BUFFER = 256 * 1024;

    private final Path baseDir;
    private final Map<String, Assembly> assemblies = new ConcurrentHashMap<>();

    MultipartAssemblyBlobStore(BlobStore delegate, Path baseDir) {
        super(delegate);
        this.baseDir = baseDir;
    }

    /** The file an upload's parts are written into, and the parts written so far. */
    private static final class Assembly {
        final Path file;
        final long partSize;
        final FileChannel channel;
        final Map<Integer, Long> placed = new ConcurrentHashMap<>();

        Assembly(Path file, long partSize) throws IOException {
            this.file = file;
            this.partSize = partSize;
            this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ,
                    StandardOpenOption.TRUNCATE_EXISTING);
        }

        void discard() {
            try {
                channel.close();
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.warn("could not remove {}", file, e);
            }
        }
    }

    @Override
    public MultipartPart uploadMultipartPart(MultipartUpload upload, int partNumber, Payload payload) {
        Long length = payload.getContentMetadata().getContentLength();
        Path container = baseDir.resolve(upload.containerName());
        Assembly assembly = length == null ? null : assemblyFor(upload, partNumber, length, container);
        String name = partName(upload, partNumber);
        Path record = container.resolve(name).normalize();
        if (assembly == null || length > assembly.partSize || !record.startsWith(container)) {
            if (assembly != null) {
                // an earlier copy of this part may have been placed: the backend's copy counts now
                assembly.placed.remove(partNumber);
            }
            return delegate().uploadMultipartPart(upload, partNumber, payload);
        }
        byte[] md5;
        try (InputStream in = payload.openStream()) {
            md5 = write(in, length, assembly.channel, (partNumber - 1L) * assembly.partSize);
        } catch (IOException e) {
            // the part's place may hold some of these bytes now: the part is gone, not half old and half new
            assembly.placed.remove(partNumber);
            delegate().removeBlob(upload.containerName(), name);
            throw new UncheckedIOException("storing part " + partNumber + " of upload " + upload.id() + " failed", e);
        } finally {
            payload.release();
        }
        // the backend's record of the part: empty, then given the part's length (a sparse file) and MD5
        delegate().putBlob(upload.containerName(), blobBuilder(name).payload(new byte[0]).contentLength(0).build());
        try (FileChannel file = FileChannel.open(record, StandardOpenOption.WRITE)) {
            file.truncate(0);
            if (length > 0) {
                file.write(ByteBuffer.allocate(1), length - 1);
            }
            UserDefinedFileAttributeView attributes = Files.getFileAttributeView(record, UserDefinedFileAttributeView.class);
            attributes.write(MD5_ATTRIBUTE, ByteBuffer.wrap(md5));
            attributes.write(PLACED_ATTRIBUTE, StandardCharsets.UTF_8.encode(upload.id()));
        } catch (IOException e) {
            throw new UncheckedIOException("recording part " + partNumber + " of upload " + upload.id() + " failed", e);
        }
        assembly.placed.put(partNumber, length);
        return MultipartPart.create(partNumber, length, HexFormat.of().formatHex(md5), new Date());
    }

    /** The upload's assembly file, started by part 1 (whose length fixes where the others go); null where a part cannot be placed. */
    private Assembly assemblyFor(MultipartUpload upload, int partNumber, long length, Path container) {
        Assembly existing = assemblies.get(upload.id());
        if (partNumber != 1 || (existing != null && existing.partSize == length)) {
            return existing;
        }
        try {
            if (existing != null) {
                // part 1 again with another length: the parts placed so far become parts of their own
                materialize(upload, existing, container);
                existing.discard();
            }
            Assembly assembly = new Assembly(assemblyFile(upload), length);
            assemblies.put(upload.id(), assembly);
            return assembly;
        } catch (IOException e) {
            LOG.warn("could not start assembling upload {}; its parts are stored one by one", upload.id(), e);
            assemblies.remove(upload.id());
            return null;
        }
    }

    @Override
    public String completeMultipartUpload(MultipartUpload upload, List<MultipartPart> parts) {
        Path container = baseDir.resolve(upload.containerName());
        Path target = container.resolve(upload.blobName()).normalize();
        if (!target.startsWith(container)) {
            return delegate().completeMultipartUpload(upload, parts);
        }
        List<MultipartPart> ordered = new ArrayList<>(parts);
        ordered.sort(Comparator.comparingInt(MultipartPart::partNumber));
        Assembly assembly = assemblies.remove(upload.id());
        try {
            MessageDigest md5 = md5();
            List<Path> records = new ArrayList<>(ordered.size());
            for (MultipartPart part : ordered) {
                String name = partName(upload, part.partNumber());
                BlobMetadata stored = delegate().blobMetadata(upload.containerName(), name);
                Path record = container.resolve(name).normalize();
                if (stored == null || stored.getETag() == null || !record.startsWith(container) || !Files.isRegularFile(record)) {
                    // not what this class expects: the backend completes it (or reports the missing part)
                    materialize(upload, assembly, container);
                    return delegate().completeMultipartUpload(upload, parts);
                }
                if (isPlaced(record) && (assembly == null || !assembly.placed.containsKey(part.partNumber()))) {
                    throw new IllegalStateException("part " + part.partNumber() + " of upload " + upload.id()
                            + " was received by an earlier run of the object store and is lost; upload the file again");
                }
                md5.update(HexFormat.of().parseHex(unquoted(stored.getETag())));
                records.add(record);
            }
            String eTag = "\"" + HexFormat.of().formatHex(md5.digest()) + "-" + ordered.size() + "\"";
            Path result;
            if (assembly != null && assembledInPlace(assembly, ordered)) {
                long total = ordered.stream().mapToLong(p -> assembly.placed.get(p.partNumber())).sum();
                assembly.channel.truncate(total);
                assembly.channel.close();
                result = assembly.file;
            } else {
                materialize(upload, assembly, container);
                result = joined(records, container.resolve(UPLOAD_PREFIX + upload.id() + "-joined"));
            }
            try {
                storeAs(upload, eTag, result, target);
            } finally {
                Files.deleteIfExists(result);
            }
            // removes the part records and the upload's own record
            delegate().abortMultipartUpload(upload);
            if (upload.putOptions() != null && upload.putOptions().getBlobAccess() != null) {
                delegate().setBlobAccess(upload.containerName(), upload.blobName(), upload.putOptions().getBlobAccess());
            }
            LOG.debug("completed multipart upload {} of {}/{} from {} parts", upload.id(), upload.containerName(), upload.blobName(), ordered.size());
            return eTag;
        } catch (IOException e) {
            throw new UncheckedIOException("completing multipart upload " + upload.id() + " of " + upload.blobName() + " failed", e);
        } finally {
            if (assembly != null) {
                assembly.discard();
            }
        }
    }

    @Override
    public void abortMultipartUpload(MultipartUpload upload) {
        Assembly assembly = assemblies.remove(upload.id());
        if (assembly != null) {
            assembly.discard();
        } else {
            // the file of an upload placed by an earlier run of the store
            try {
                Files.deleteIfExists(assemblyFile(upload));
            } catch (IOException e) {
                LOG.warn("could not remove the assembly file of upload {}", upload.id(), e);
            }
        }
        delegate().abortMultipartUpload(upload);
    }

    private Path assemblyFile(MultipartUpload upload) {
        return baseDir.resolve(upload.containerName()).resolve(UPLOAD_PREFIX + upload.id() + "-assembly");
    }

    /** Whether the parts are 1..n, all placed, all but the last exactly part 1's length. */
    private static boolean assembledInPlace(Assembly assembly, List<MultipartPart> ordered) {
        for (int i = 0; i < ordered.size(); i++) {
            MultipartPart part = ordered.get(i);
            Long size = assembly.placed.get(part.partNumber());
            if (part.partNumber() != i + 1 || size == null || (i < ordered.size() - 1 && size != assembly.partSize)) {
                return false;
            }
        }
        return true;
    }

    /** Writes the placed parts' bytes into their records, so that the backend (or {@link #joined}) can read them. */
    private void materialize(MultipartUpload upload, Assembly assembly, Path container) throws IOException {
        if (assembly == null) {
            return;
        }
        for (Map.Entry<Integer, Long> part : assembly.placed.entrySet()) {
            Path record = container.resolve(partName(upload, part.getKey()));
            try (FileChannel out = FileChannel.open(record, StandardOpenOption.WRITE)) {
                out.truncate(0);
                copy(assembly.channel, (part.getKey() - 1L) * assembly.partSize, part.getValue(), out);
            }
            Files.getFileAttributeView(record, UserDefinedFileAttributeView.class).delete(PLACED_ATTRIBUTE);
        }
        assembly.placed.clear();
    }

    /** The records' bytes one after another in FILE, copied inside the kernel (the channel is not in append mode, which would prevent that). */
    private static Path joined(List<Path> records, Path file) throws IOException {
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            for (Path record : records) {
                try (FileChannel in = FileChannel.open(record, StandardOpenOption.READ)) {
                    copy(in, 0, in.size(), out);
                }
            }
        }
        return file;
    }

    /** Copies LENGTH bytes of IN from position FROM to OUT's position, inside the kernel. */
    private static void copy(FileChannel in, long from, long length, FileChannel out) throws IOException {
        for (long done = 0; done < length; ) {
            done += in.transferTo(from + done, length - done, out);
        }
    }

    /**
     * Makes FILE the object: the backend stores an empty object under a temporary name with the
     * upload's metadata and the multipart ETag (which it keeps without hashing), its extended
     * attributes are copied to FILE, and FILE is renamed over the object's name.
     */
    private void storeAs(MultipartUpload upload, String eTag, Path file, Path target) throws IOException {
        String temporaryName = UPLOAD_PREFIX + upload.id() + "-metadata";
        Path temporary = baseDir.resolve(upload.containerName()).resolve(temporaryName);
        delegate().putBlob(upload.containerName(), emptyBlobWithMetadata(temporaryName, upload, eTag));
        try {
            UserDefinedFileAttributeView from = Files.getFileAttributeView(temporary, UserDefinedFileAttributeView.class);
            UserDefinedFileAttributeView to = Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
            for (String name : to.list()) {
                to.delete(name);
            }
            for (String name : from.list()) {
                ByteBuffer value = ByteBuffer.allocate(from.size(name));
                from.read(name, value);
                value.flip();
                to.write(name, value);
            }
            Files.createDirectories(target.getParent());
            Files.move(file, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            delegate().removeBlob(upload.containerName(), temporaryName);
        }
    }

    /** An empty blob named NAME with the upload's metadata and the given multipart ETag. */
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

    /** Writes exactly LENGTH bytes of IN at POSITION of CHANNEL; returns their MD5. */
    private static byte[] write(InputStream in, long length, FileChannel channel, long position) throws IOException {
        MessageDigest md5 = md5();
        byte[] buffer = new byte[(int) Math.min(COPY_BUFFER, Math.max(1, length))];
        long done = 0;
        while (done < length) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, length - done));
            if (n < 0) {
                throw new EOFException("the part ended after " + done + " of " + length + " bytes");
            }
            md5.update(buffer, 0, n);
            ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, n);
            while (bytes.hasRemaining()) {
                channel.write(bytes, position + done + bytes.position());
            }
            done += n;
        }
        return md5.digest();
    }

    private static boolean isPlaced(Path record) {
        try {
            return Files.getFileAttributeView(record, UserDefinedFileAttributeView.class).list().contains(PLACED_ATTRIBUTE);
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** How the backend names part N of an upload. */
    private static String partName(MultipartUpload upload, int partNumber) {
        return UPLOAD_PREFIX + upload.id() + "-" + upload.blobName() + "-" + partNumber;
    }

    private static <T> void setIfPresent(T value, Consumer<T> setter) {
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
