package dev.mlinfra.datasets.validation;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Validates a file while it is being stored: every byte read from {@link #source()} is also
 * handed to a {@link DatasetScanner} on its own thread, through a small bounded queue, so the
 * file is read once. When the scanner falls behind, reading waits for it; when it stops early
 * (the file is already known to be invalid), reading goes on without it. The copies travel in
 * a fixed set of reused arrays, so a file of any size allocates no more than that set.
 */
public final class StreamingScan implements AutoCloseable {

    /** Bytes handed over per queue entry, and entries in use: together they bound the memory used. */
    private static final int PIECE = 64 * 1024;
    private static final int PIECES = 16;
    private static final Piece END = new Piece(new byte[0], 0);

    /** A copy of the body's bytes for the scanner: {@code length} bytes of a pooled array. */
    private record Piece(byte[] data, int length) {
    }

    private final BlockingQueue<Piece> queue = new ArrayBlockingQueue<>(PIECES + 1);
    /** Arrays the scanner has finished with; new ones are made until {@link #PIECES} exist. */
    private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(PIECES);
    private int made;
    private final CompletableFuture<ScanResult> result = new CompletableFuture<>();
    private final InputStream source;
    private volatile boolean scannerDone;
    private long bytes;

    public StreamingScan(InputStream body, DatasetScanner scanner, String format, String threadName) {
        this.source = new Tee(body);
        Thread t = new Thread(() -> {
            try (InputStream in = new QueueStream()) {
                result.complete(scanner.scan(in, format));
            } catch (Throwable e) {
                result.completeExceptionally(e);
            } finally {
                scannerDone = true;
                queue.clear();
            }
        }, threadName);
        t.setDaemon(true);
        t.start();
    }

    /** The body to store; reading it feeds the scanner. */
    public InputStream source() {
        return source;
    }

    /** Bytes read from the body so far. */
    public long bytes() {
        return bytes;
    }

    /** The one-byte read of a stream, through its array read. */
    private static int readOne(InputStream in) throws IOException {
        byte[] one = new byte[1];
        int n = in.read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    /** Signals the end of the file and waits for the scanner's verdict. */
    public ScanResult finish() {
        hand(END);
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while validating", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /** Stops the scanner when the file did not arrive whole. */
    @Override
    public void close() {
        scannerDone = true;
        queue.clear();
        queue.offer(END);
    }

    private void hand(Piece piece) {
        try {
            while (!scannerDone && !queue.offer(piece, 100, TimeUnit.MILLISECONDS)) {
                // the scanner is behind: wait for it (back pressure), unless it has stopped
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** An array for the next piece: a returned one, a new one while fewer than PIECES exist, or null once the scanner stopped. */
    private byte[] array() {
        byte[] a = free.poll();
        if (a != null) {
            return a;
        }
        if (made < PIECES) {
            made++;
            return new byte[PIECE];
        }
        try {
            while (!scannerDone) {
                a = free.poll(100, TimeUnit.MILLISECONDS);
                if (a != null) {
                    return a;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    private final class Tee extends FilterInputStream {
        Tee(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            return readOne(this);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                bytes += n;
            }
            for (int from = 0; n > 0 && from < n && !scannerDone; from += PIECE) {
                byte[] a = array();
                if (a == null) {
                    break;
                }
                int length = Math.min(n - from, PIECE);
                System.arraycopy(b, off + from, a, 0, length);
                hand(new Piece(a, length));
            }
            return n;
        }
    }

    private final class QueueStream extends InputStream {
        private Piece current = new Piece(new byte[0], 0);
        private int pos;
        private boolean ended;

        @Override
        public int read() throws IOException {
            return readOne(this);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            while (pos >= current.length()) {
                if (ended) {
                    return -1;
                }
                if (current.length() > 0) {
                    free.offer(current.data());
                }
                try {
                    current = queue.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("Interrupted while reading the upload", e);
                }
                pos = 0;
                if (current == END) {
                    ended = true;
                    return -1;
                }
            }
            int n = Math.min(len, current.length() - pos);
            System.arraycopy(current.data(), pos, b, off, n);
            pos += n;
            return n;
        }
    }
}
