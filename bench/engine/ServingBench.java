import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mlinfra.engine.EngineRuntime;
import dev.mlinfra.engine.artifact.LocalArtifactStore;
import dev.mlinfra.engine.data.PromptTemplate;
import dev.mlinfra.engine.model.LlamaModel;
import dev.mlinfra.engine.model.LoraAdapter;
import dev.mlinfra.engine.model.LoraConfig;
import dev.mlinfra.engine.model.ModelConfig;
import dev.mlinfra.engine.model.ModelStore;
import dev.mlinfra.engine.tokenizer.ByteTokenizer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Continuous batching of a running model-server: aggregate generated tokens/s and time to first
 * token with 1, 4 and 8 concurrent streams, all on one adapter and spread over 4 adapters.
 *
 * <p>Each stream is an independent client sending streamed greedy completions (160-token prompt,
 * 96 to 160 new tokens, seeded) back to back; the streams start spread over one request's length,
 * so they arrive at independent moments as separate clients do, not in lockstep. Tokens/s is
 * counted over the steady part of a scenario (from the last stream's start to the first stream's
 * end; a request's tokens are spread evenly over its decoding time), time to first token is
 * measured by the client (request sent to first chunk), and ratios are against the 1-stream run of
 * the same adapter mix in this run, after a warm-up (every adapter once, then an unreported
 * scenario of 8 streams and one of a single stream). A last line sends 8 requests at the same instant (a burst),
 * whose prefills queue behind one another. With the server's process id, each scenario also gives
 * completion tokens per CPU second of the server process (user + system time from /proc), which
 * other load on the machine disturbs far less than wall-clock tokens/s. Writes 4 LoRA adapters (r=16 on every projection,
 * embed_tokens and lm_head saved, as training writes them) under the given folder. Run through
 * bench/engine/run.sh.
 *
 * <p>Usage: ServingBench BASE_URL WORK_DIR [SERVER_PID]
 */
public class ServingBench {

    static final int ADAPTERS = 4;
    static final int MIN_TOKENS = 96;
    static final int MAX_TOKENS = 160;
    static final int REQUESTS_PER_STREAM = 5;
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();
    static final String PROMPT = PromptTemplate.promptText("argoproj/argo-cd", "Sync fails after upgrade", "x".repeat(100));

    /** One request: its completion tokens, time to first chunk, and when it started, first answered and ended (ns). */
    record Outcome(int tokens, double ttftMs, long start, long first, long end) {
    }

    record Scenario(double tokensPerSecond, double ttftMedianMs, double ttftP90Ms, double tokensPerCpuSecond) {
    }

    static long serverPid = -1;

    /** CPU seconds (user + system) the server process has used, or NaN without its process id. */
    static double serverCpuSeconds() throws Exception {
        if (serverPid < 0) {
            return Double.NaN;
        }
        String stat = Files.readString(Path.of("/proc/" + serverPid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime in clock ticks (USER_HZ 100)
    }

    public static void main(String[] args) throws Exception {
        URI server = URI.create(args[0]);
        Path work = Path.of(args[1]);
        if (args.length > 2) {
            serverPid = Long.parseLong(args[2]);
        }
        List<String> names = writeAdapters(work);
        for (int i = 0; i < names.size(); i++) {
            post(server, "/v1/load_lora_adapter", Map.of("lora_name", names.get(i),
                    "lora_path", work.resolve(names.get(i)).toString(), "pinned", true));
        }
        // Warm-up: every adapter once, then one unreported run of 8 streams over the 4 adapters and
        // one of a single stream, so that the first measured scenario (one stream, one adapter) does
        // not pay for the server compiling its request and decoding paths while it runs.
        for (String name : names) {
            complete(server, name, MAX_TOKENS);
        }
        long warm = System.nanoTime();
        complete(server, names.get(0), (MIN_TOKENS + MAX_TOKENS) / 2);
        double warmRequestSeconds = (System.nanoTime() - warm) / 1e9;
        run(server, names, 8, true, warmRequestSeconds);
        run(server, names, 1, false, warmRequestSeconds);
        System.out.printf("  %-12s %7s %9s %6s %12s %12s %11s %15s %6s%n", "", "streams", "tokens/s", "x 1",
                "TTFT median", "TTFT p90", "TTFT x idle", "tokens/CPU-s", "x 1");
        double requestSeconds = 0;
        for (boolean spread : new boolean[] {false, true}) {
            Scenario single = null;
            for (int streams : new int[] {1, 4, 8}) {
                if (single == null) {
                    long t = System.nanoTime();
                    complete(server, names.get(0), (MIN_TOKENS + MAX_TOKENS) / 2);
                    requestSeconds = (System.nanoTime() - t) / 1e9;
                }
                Scenario s = run(server, names, streams, spread, requestSeconds);
                if (single == null) {
                    single = s;
                }
                System.out.printf("  %-12s %7d %9.0f %5.2fx %9.1f ms %9.1f ms %10.2fx %15.0f %5.2fx%n",
                        spread ? "4 adapters" : "one adapter", streams, s.tokensPerSecond(),
                        s.tokensPerSecond() / single.tokensPerSecond(), s.ttftMedianMs(), s.ttftP90Ms(),
                        s.ttftMedianMs() / single.ttftMedianMs(), s.tokensPerCpuSecond(),
                        s.tokensPerCpuSecond() / single.tokensPerCpuSecond());
            }
        }
        List<Outcome> burst = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String model = names.get(i % names.size());
            done.add(pool.submit(() -> {
                go.await();
                burst.add(complete(server, model, MAX_TOKENS));
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : done) {
            f.get();
        }
        pool.shutdown();
        List<Double> ttft = burst.stream().map(Outcome::ttftMs).sorted().toList();
        System.out.printf("  burst: 8 requests at once (4 adapters): TTFT min %.1f ms, median %.1f ms, max %.1f ms%n",
                ttft.get(0), ttft.get(4), ttft.get(7));
    }

    static Scenario run(URI server, List<String> names, int streams, boolean spread, double requestSeconds)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(streams);
        List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        long[] starts = new long[streams];
        long[] ends = new long[streams];
        List<Future<?>> done = new ArrayList<>();
        double cpuBefore = serverCpuSeconds();
        long origin = System.nanoTime();
        for (int s = 0; s < streams; s++) {
            int stream = s;
            String model = names.get(spread ? s % names.size() : 0);
            long offset = (long) (requestSeconds * 1e9 * s / streams);
            done.add(pool.submit(() -> {
                java.util.Random lengths = new java.util.Random(stream);
                Thread.sleep(offset / 1_000_000);
                starts[stream] = System.nanoTime();
                for (int r = 0; r < REQUESTS_PER_STREAM; r++) {
                    outcomes.add(complete(server, model, MIN_TOKENS + lengths.nextInt(MAX_TOKENS - MIN_TOKENS + 1)));
                }
                ends[stream] = System.nanoTime();
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        double cpu = serverCpuSeconds() - cpuBefore;
        pool.shutdown();
        long from = java.util.Arrays.stream(starts).max().orElse(origin);
        long to = java.util.Arrays.stream(ends).min().orElse(origin);
        double tokens = 0;
        for (Outcome o : outcomes) {
            long overlap = Math.min(to, o.end()) - Math.max(from, o.first());
            if (overlap > 0 && o.end() > o.first()) {
                tokens += (o.tokens() - 1) * (double) overlap / (o.end() - o.first());
            }
        }
        List<Double> ttft = outcomes.stream().map(Outcome::ttftMs).sorted().toList();
        return new Scenario(tokens / ((to - from) / 1e9), ttft.get(ttft.size() / 2),
                ttft.get((int) Math.ceil(ttft.size() * 0.9) - 1), outcomes.stream().mapToInt(Outcome::tokens).sum() / cpu);
    }

    /** One streamed greedy completion: its completion tokens and the time to its first chunk. */
    static Outcome complete(URI server, String model, int maxTokens) throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", model);
        body.put("prompt", PROMPT);
        body.put("max_tokens", maxTokens);
        body.put("temperature", 0);
        body.put("stream", true);
        body.put("stream_options", Map.of("include_usage", true));
        long sent = System.nanoTime();
        HttpResponse<java.util.stream.Stream<String>> response = HTTP.send(request(server, "/v1/completions", body),
                HttpResponse.BodyHandlers.ofLines());
        if (response.statusCode() != 200) {
            throw new IllegalStateException("HTTP " + response.statusCode());
        }
        double ttft = -1;
        long first = 0;
        int tokens = 0;
        for (Iterator<String> lines = response.body().iterator(); lines.hasNext();) {
            String line = lines.next();
            if (!line.startsWith("data: {")) {
                continue;
            }
            if (ttft < 0) {
                first = System.nanoTime();
                ttft = (first - sent) / 1e6;
            }
            JsonNode usage = JSON.readTree(line.substring(6)).path("usage");
            if (usage.has("completion_tokens")) {
                tokens = usage.path("completion_tokens").asInt();
            }
        }
        return new Outcome(tokens, ttft, sent, first, System.nanoTime());
    }

    static HttpRequest request(URI server, String path, Object body) throws Exception {
        return HttpRequest.newBuilder(server.resolve(path)).timeout(Duration.ofMinutes(5))
                .header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
    }

    static void post(URI server, String path, Object body) throws Exception {
        HttpResponse<String> r = HTTP.send(request(server, path, body), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(path + ": HTTP " + r.statusCode() + " " + r.body());
        }
    }

    /** Four seeded adapters with small random updates (a fresh adapter's B is zero). */
    static List<String> writeAdapters(Path work) throws Exception {
        EngineRuntime.engine();
        ModelConfig config = ModelConfig.builtin("scout");
        List<String> names = new ArrayList<>();
        try (NDManager root = NDManager.newBaseManager();
             LlamaModel model = LlamaModel.fromTensors(config, LlamaModel.initialWeights(config), root, DataType.FLOAT32)) {
            for (int i = 0; i < ADAPTERS; i++) {
                String name = "bench-" + i;
                try (LoraAdapter adapter = LoraAdapter.create(model,
                        new LoraConfig(16, 32, 0, null, List.of("embed_tokens", "lm_head")), 100 + i)) {
                    for (NDArray p : adapter.parameters().values()) {
                        p.addi(root.randomNormal(0, 0.002f, p.getShape(), p.getDataType()));
                    }
                    Path dir = work.resolve(name);
                    Files.createDirectories(dir);
                    ModelStore.writeAdapter(new LocalArtifactStore(dir), "", config, new ByteTokenizer(), adapter, List.of());
                }
                names.add(name);
            }
        }
        return names;
    }
}
