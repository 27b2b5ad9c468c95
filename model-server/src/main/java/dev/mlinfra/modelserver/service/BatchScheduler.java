package dev.mlinfra.modelserver.service;

import dev.mlinfra.engine.generate.GenerationResult;
import dev.mlinfra.engine.generate.Generator;
import dev.mlinfra.modelserver.api.ApiException;
import dev.mlinfra.modelserver.config.ModelServerConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Continuous batching: one decode loop on its own thread serves every request. Each iteration
 * admits waiting requests while the batch has room ({@code max-num-seqs}), prefills each newcomer's
 * prompt on its own and samples its first token, then decodes one token for every running
 * sequence in one batched step ({@link Generator#step}); finished sequences leave at once and
 * their places go to waiting requests at the next iteration. Sequences on different adapters of the
 * base share the steps (the engine groups rows per adapter).
 *
 * <p>The server holds at most {@code max-num-seqs} + {@code max-waiting-requests} requests: with the
 * batch full and that many waiting, one more is refused with 503 (a burst that the batch has room
 * for is taken even while the loop is still prefilling its first requests). A request
 * leases its adapter from the {@link ModelRegistry} when it is admitted, not while it waits, and
 * lets go when it leaves, so eviction and unloading never close weights that a sequence decodes
 * with. A request whose client went away leaves at the next iteration; one whose client left while
 * it waited is never prefilled. The loop thread owns every sequence and cache; request threads only
 * exchange messages with it.
 */
@ApplicationScoped
public class BatchScheduler {

    private static final Logger LOG = Logger.getLogger(BatchScheduler.class);
    /** How often a request thread waiting for text looks whether its client is still there. */
    private static final Duration CLIENT_CHECK = Duration.ofMillis(100);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Supplier<ApiException> SHUTTING_DOWN =
            () -> new ApiException(503, "ServiceUnavailableError", "The server is shutting down.", null);

    private final ModelRegistry registry;
    private final ServingMetrics metrics;
    private final int maxRunning;
    private final int maxWaiting;
    private final BlockingQueue<Job> waiting = new LinkedBlockingQueue<>();
    /** Requests queued or in the batch: at most {@code maxRunning + maxWaiting}. */
    private final AtomicInteger held = new AtomicInteger();
    private volatile int running;
    private volatile boolean stopping;
    private Thread loop;

    public BatchScheduler(ModelRegistry registry, ServingMetrics metrics, ModelServerConfig config) {
        this.registry = registry;
        this.metrics = metrics;
        this.maxRunning = Math.max(1, config.maxNumSeqs());
        this.maxWaiting = Math.max(0, config.maxWaitingRequests());
    }

    /** Starts the loop once the registry has loaded the base (observers of lower priority run first). */
    void onStart(@Observes @Priority(Interceptor.Priority.APPLICATION + 1000) StartupEvent event) {
        metrics.register(registry.baseName(), () -> running, waiting::size);
        loop = Thread.ofPlatform().name("decode-loop").daemon().start(this::run);
    }

    /** Stops the loop before the registry closes the weights it decodes with. */
    void onStop(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) ShutdownEvent event) throws InterruptedException {
        stopping = true;
        if (loop != null) {
            loop.interrupt();
            loop.join(STOP_TIMEOUT);
        }
    }

    /**
     * Queues a generation of {@code prompt} (token ids, validated) or refuses it with 503 when the
     * batch is full and {@code max-waiting-requests} requests wait already. {@code clientGone} is
     * asked by the loop when the request is admitted and before each step.
     */
    public Job submit(GenerationRequest request, int[] prompt, BooleanSupplier clientGone) {
        Job job = new Job(request, prompt, clientGone);
        if (stopping || held.getAndUpdate(n -> n < maxRunning + maxWaiting ? n + 1 : n) >= maxRunning + maxWaiting) {
            metrics.finished("rejected");
            if (stopping) {
                throw SHUTTING_DOWN.get();
            }
            throw new ApiException(503, "ServiceUnavailableError", "The server is busy: " + maxRunning
                    + " requests are generating (max-num-seqs) and " + maxWaiting
                    + " are waiting (max-waiting-requests). Retry later.", null);
        }
        waiting.add(job);
        if (stopping && waiting.remove(job)) {
            complete(job, new Failed(SHUTTING_DOWN.get()));
        }
        return job;
    }

    /** A request's outcome, sent by the loop to the request's thread. */
    private sealed interface Outcome permits Done, Failed, Gone {
    }

    private record Done(GenerationResult result) implements Outcome {
    }

    private record Failed(RuntimeException error) implements Outcome {
    }

    private record Gone(int tokens) implements Outcome {
    }

    /** A queued or running request, seen from its own thread through {@link #await}. */
    public final class Job {
        private final GenerationRequest request;
        private final int[] prompt;
        private final BooleanSupplier clientGone;
        private final long arrival = System.nanoTime();
        /** Text pieces (String) and finally one {@link Outcome}. */
        private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        private volatile boolean abandoned;
        // Owned by the loop thread:
        private ModelRegistry.Lease lease;
        private Generator.Sequence sequence;
        private int counted;

        private Job(GenerationRequest request, int[] prompt, BooleanSupplier clientGone) {
            this.request = request;
            this.prompt = prompt;
            this.clientGone = clientGone;
        }

        /**
         * Waits for the generation, passing text to {@code onText} (null: no streaming) on this
         * thread as the loop produces it, and returns its result.
         *
         * @throws ClientGoneException when the client went away, already logged
         * @throws ApiException        when the request cannot run (its adapter is gone or unreadable)
         */
        public GenerationResult await(Consumer<String> onText) {
            try {
                while (true) {
                    Object event = events.poll(CLIENT_CHECK.toMillis(), TimeUnit.MILLISECONDS);
                    if (event == null || event instanceof String) {
                        if (clientGone.getAsBoolean()) {
                            abandoned = true; // the loop stops it at its next iteration and reports Gone
                        } else if (event != null && onText != null) {
                            onText.accept((String) event);
                        }
                        continue;
                    }
                    return switch ((Outcome) event) {
                        case Done d -> d.result();
                        case Failed f -> throw f.error();
                        case Gone g -> throw new ClientGoneException(g.tokens());
                    };
                }
            } catch (InterruptedException e) {
                abandoned = true;
                Thread.currentThread().interrupt();
                throw new ClientGoneException(0);
            }
        }

        private boolean gone() {
            return abandoned || clientGone.getAsBoolean();
        }

        private String model() {
            return request.model() == null ? registry.baseName() : request.model();
        }
    }

    // ---------------------------------------------------------------- the loop (one thread)

    private void run() {
        Generator generator = new Generator(registry.base().model(), registry.base().tokenizer());
        List<Job> batch = new ArrayList<>();
        try {
            while (!stopping) {
                try {
                    iterate(generator, batch);
                } catch (RuntimeException e) {
                    // Not one request's fault (those fail alone): fail the batch, keep serving.
                    LOG.errorf(e, "decode loop iteration with %d sequences failed", batch.size());
                    batch.forEach(job -> fail(job, e));
                    batch.clear();
                }
                running = batch.size();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            batch.forEach(job -> fail(job, SHUTTING_DOWN.get()));
            Job left;
            while ((left = waiting.poll()) != null) {
                complete(left, new Failed(SHUTTING_DOWN.get()));
            }
            running = 0;
        }
    }

    /** Admits newcomers while there is room, lets go of requests whose client left, decodes one step. */
    private void iterate(Generator generator, List<Job> batch) throws InterruptedException {
        if (batch.isEmpty()) {
            admit(generator, waiting.take(), batch);
        }
        Job next;
        while (batch.size() < maxRunning && (next = waiting.poll()) != null) {
            admit(generator, next, batch);
        }
        batch.removeIf(this::leaveIfGone);
        running = batch.size();
        if (!batch.isEmpty()) {
            step(generator, batch);
        }
    }

    /** Leases the job's target, prefills its prompt and samples its first token; it joins the batch unless done. */
    private void admit(Generator generator, Job job, List<Job> batch) {
        if (job.gone()) {
            LOG.infof("skipped generation on %s (0 tokens): the client went away while it was queued", job.model());
            metrics.finished("abort");
            complete(job, new Gone(0));
            return;
        }
        try {
            job.lease = lease(job.request.model());
            ModelRegistry.Target target = job.lease.target();
            job.sequence = generator.start(job.prompt, target.adapter(), job.request.sampling(), job.events::add);
        } catch (RuntimeException e) {
            fail(job, e);
            return;
        }
        metrics.prefilled(job.prompt.length);
        metrics.firstToken(Duration.ofNanos(System.nanoTime() - job.arrival));
        count(job);
        if (job.sequence.finished()) {
            finish(job);
        } else {
            batch.add(job);
        }
    }

    private void step(Generator generator, List<Job> batch) {
        List<Generator.Sequence> sequences = new ArrayList<>(batch.size());
        for (Job job : batch) {
            sequences.add(job.sequence);
        }
        generator.step(sequences);
        metrics.step(batch.size());
        batch.removeIf(job -> {
            count(job);
            if (job.sequence.failure() != null) {
                fail(job, job.sequence.failure());
                return true;
            }
            if (job.sequence.finished()) {
                finish(job);
                return true;
            }
            return false;
        });
    }

    private void count(Job job) {
        int generated = job.sequence.generated();
        metrics.generated(generated - job.counted);
        job.counted = generated;
    }

    /** Takes a job whose client went away out of the batch; true when it left. */
    private boolean leaveIfGone(Job job) {
        if (!job.gone()) {
            return false;
        }
        int tokens = job.sequence.generated();
        LOG.infof("stopped generation on %s after %d tokens (max_tokens %d): the client went away",
                job.lease.target().name(), tokens, job.request.sampling().maxTokens());
        release(job);
        metrics.finished("abort");
        complete(job, new Gone(tokens));
        return true;
    }

    private void finish(Job job) {
        GenerationResult result = job.sequence.result();
        release(job);
        metrics.finished(result.finishReason());
        complete(job, new Done(result));
    }

    private void fail(Job job, RuntimeException e) {
        release(job);
        metrics.finished("abort");
        complete(job, new Failed(e));
    }

    /** Hands a request its outcome; its place is free from now on. */
    private void complete(Job job, Outcome outcome) {
        held.decrementAndGet();
        job.events.add(outcome);
    }

    private static void release(Job job) {
        if (job.sequence != null) {
            job.sequence.close();
        }
        if (job.lease != null) {
            job.lease.close();
        }
    }

    /** A lease on the served model a request names, or the API's 404 (500 when its adapter cannot be read). */
    ModelRegistry.Lease lease(String model) {
        ModelRegistry.Lease lease;
        try {
            lease = registry.acquire(model);
        } catch (IOException e) {
            throw new ApiException(500, "InternalServerError", "adapter of `" + model + "` cannot be read", "model");
        }
        if (lease == null) {
            throw ApiException.notFound("model", "The model `" + model + "` does not exist.");
        }
        return lease;
    }
}
