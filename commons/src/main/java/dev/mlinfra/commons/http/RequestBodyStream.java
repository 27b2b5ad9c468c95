package dev.mlinfra.commons.http;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The body of a Vert.x request as a blocking {@link InputStream}, for a worker thread that
 * streams a large upload somewhere else. The connection reads ahead until {@code highWater}
 * bytes wait in the queue and pauses only then, resuming once the reader has taken three
 * quarters of them: the event loop and the reader hand over many buffers per wake-up instead of
 * asking for one buffer at a time, which on a busy machine is what limits an upload's speed.
 *
 * <p>Nothing is read before {@link #start()}, so a request can still be refused (and its
 * {@code Expect: 100-continue} never answered) after the stream is set up. Create it on the
 * request's event loop, before the handler returns.
 */
public final class RequestBodyStream extends InputStream {

    private final HttpServerRequest request;
    private final Context context;
    private final long highWater;
    private final long lowWater;
    private final long idleNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
    private long queued;
    // paused and started change on the event loop only (under the lock, which the reader reads them with)
    private boolean paused = true;
    private boolean resumeAsked;
    private boolean started;
    private boolean ended;
    private IOException failure;
    private Buffer current;
    private int position;
    private long received;

    /**
     * @param highWater   bytes queued before the connection pauses
     * @param idleTimeout how long a read waits for the next bytes before it fails
     */
    public RequestBodyStream(HttpServerRequest request, int highWater, Duration idleTimeout) {
        this.request = request;
        this.context = Vertx.currentContext();
        if (context == null) {
            throw new IllegalStateException("create the body stream on the request's event loop");
        }
        this.highWater = highWater;
        this.lowWater = highWater / 4;
        this.idleNanos = idleTimeout.toNanos();
        request.pause();
        request.handler(this::arrived);
        request.endHandler(v -> finish(null));
        request.exceptionHandler(e -> finish(e instanceof IOException io ? io
                : new IOException("the request body could not be read: " + e.getMessage(), e)));
    }

    /** Lets the body flow; answers {@code 100 Continue} first when the client waits for it. Any thread. */
    public void start() {
        context.runOnContext(v -> {
            lock.lock();
            try {
                if (started) {
                    return;
                }
                started = true;
                paused = false;
            } finally {
                lock.unlock();
            }
            if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT)) && !request.response().headWritten()) {
                request.response().writeContinue();
            }
            request.resume();
        });
    }

    /** Whether the whole body has arrived (or the request failed): nothing is left unread on the connection. */
    public boolean complete() {
        lock.lock();
        try {
            return ended || failure != null;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes that arrived so far. */
    public long received() {
        lock.lock();
        try {
            return received;
        } finally {
            lock.unlock();
        }
    }

    private void arrived(Buffer buffer) {
        lock.lock();
        try {
            queue.add(buffer);
            queued += buffer.length();
            received += buffer.length();
            if (queued >= highWater && !paused) {
                paused = true;
                request.pause();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void resume() {
        lock.lock();
        try {
            resumeAsked = false;
            if (!paused) {
                return;
            }
            paused = false;
        } finally {
            lock.unlock();
        }
        request.resume();
    }

    private void finish(IOException e) {
        lock.lock();
        try {
            if (e == null) {
                ended = true;
            } else if (!ended && failure == null) {
                failure = e;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (current == null || position == current.length()) {
            current = next();
            position = 0;
            if (current == null) {
                return -1;
            }
        }
        int n = Math.min(len, current.length() - position);
        current.getBytes(position, position + n, b, off);
        position += n;
        return n;
    }

    /** The next buffer, waiting for it; null at the end of the body. */
    private Buffer next() throws IOException {
        lock.lock();
        try {
            long wait = idleNanos;
            Buffer next;
            while ((next = queue.poll()) == null) {
                if (failure != null) {
                    throw failure;
                }
                if (ended) {
                    return null;
                }
                if (wait <= 0) {
                    throw new IOException("no data for " + TimeUnit.NANOSECONDS.toSeconds(idleNanos) + " s; the client stopped sending");
                }
                try {
                    wait = changed.awaitNanos(wait);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for the request body");
                }
            }
            queued -= next.length();
            if (paused && started && queued <= lowWater && !resumeAsked) {
                resumeAsked = true;
                context.runOnContext(v -> resume());
            }
            return next;
        } finally {
            lock.unlock();
        }
    }
}
