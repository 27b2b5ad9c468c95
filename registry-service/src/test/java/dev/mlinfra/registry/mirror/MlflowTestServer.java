package dev.mlinfra.registry.mirror;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An MLflow tracking server's Model Registry REST API (2.x), as MLflow documents it, on loopback:
 * registered models with tags, versions numbered 1, 2, ... with source, tags and stage, aliases;
 * create, get, search, delete, set and delete alias, transition stage. It holds its state in
 * memory, keeps it across {@link #stop()} and {@link #start()} (so MLflow can be away for a
 * while), and refuses what MLflow refuses: a wrong method (405), a body that is not a JSON
 * object, a missing required field or a field of the wrong type ({@code INVALID_PARAMETER_VALUE},
 * 400), an existing name ({@code RESOURCE_ALREADY_EXISTS}, 400), an unknown model or version
 * ({@code RESOURCE_DOES_NOT_EXIST}, 404). Stricter than MLflow in one way: a field MLflow does not
 * define is refused, so a misspelt field cannot pass unnoticed. Every call needs the bearer token
 * it was made with (a proxy in front of MLflow would refuse it too).
 *
 * <p>Search pages hold at most {@link #PAGE} versions whatever {@code max_results} asks for (MLflow
 * lets a backend choose a lower maximum), so clients must follow {@code next_page_token}.
 */
final class MlflowTestServer {

    static final String API = "/api/2.0/mlflow/";
    /** The MLflow release whose REST API this server follows, as its unauthenticated {@code /version} says. */
    static final String VERSION = "2.22.0";
    /** Not MLflow's: the change log, for a benchmark run outside the test JVM. */
    static final String CHANGES = "/test/changes";
    /** The most versions one search page holds. */
    static final int PAGE = 1;
    private static final Pattern NAME_FILTER = Pattern.compile("\\s*name\\s*=\\s*'([^']*)'\\s*");
    private static final Duration REBIND_PATIENCE = Duration.ofSeconds(10);
    private static final Set<String> STAGES = Set.of("None", "Staging", "Production", "Archived");

    /** A version as the server holds it. */
    static final class Version {
        final String number;
        final String source;
        final Map<String, String> tags;
        final long createdAt;
        String stage = "None";

        Version(String number, String source, Map<String, String> tags, long createdAt) {
            this.number = number;
            this.source = source;
            this.tags = tags;
            this.createdAt = createdAt;
        }
    }

    /** A registered model as the server holds it. */
    static final class Model {
        final String name;
        final String description;
        final Map<String, String> tags;
        final Map<String, String> aliases = new TreeMap<>();
        final Map<String, Version> versions = new LinkedHashMap<>();
        int lastNumber;

        Model(String name, String description, Map<String, String> tags) {
            this.name = name;
            this.description = description;
            this.tags = tags;
        }
    }

    /**
     * A change the server made, in the order it made them: {@code "set-alias team.model production=2"},
     * with the time it made it (epoch milliseconds).
     */
    record Change(long at, String what, String model, String detail) {

        Change(String what, String model, String detail) {
            this(System.currentTimeMillis(), what, model, detail);
        }

        @Override
        public String toString() {
            return what + " " + model + (detail.isEmpty() ? "" : " " + detail);
        }
    }

    private final ObjectMapper json = new ObjectMapper();
    private final String token;
    private final Map<String, Model> models = new HashMap<>();
    private final List<Change> changes = new ArrayList<>();
    private final Map<String, Integer> calls = new HashMap<>();
    private final Set<String> answersToLose = new HashSet<>();
    private final Set<String> callsToRefuse = new HashSet<>();
    private int port;
    private HttpServer server;
    private ExecutorService workers;

    private MlflowTestServer(String token) {
        this.token = token;
    }

    /**
     * Runs the server on its own, for bench/registry: {@code --port P --token T}. Besides the MLflow
     * API it answers {@value #CHANGES} with the changes made so far, as JSON lines
     * ({@code {"at", "what", "model", "detail"}}), from the {@code since}-th on.
     */
    public static void main(String[] args) throws IOException {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        if (!options.containsKey("--port") || !options.containsKey("--token")) {
            System.err.println("usage: MlflowTestServer --port PORT --token TOKEN");
            System.exit(2);
        }
        MlflowTestServer s = new MlflowTestServer(options.get("--token"));
        s.port = Integer.parseInt(options.get("--port"));
        s.start();
        System.out.println("MLflow test server on " + s.url());
    }

    static MlflowTestServer start(String token) throws IOException {
        MlflowTestServer s = new MlflowTestServer(token);
        s.start();
        return s;
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    /** Listens (again) on its port, with the state it had; the first start picks a free port. */
    synchronized void start() throws IOException {
        if (server != null) {
            return;
        }
        long deadline = System.nanoTime() + REBIND_PATIENCE.toNanos();
        while (true) {
            try {
                server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
                break;
            } catch (BindException e) {
                // The socket of the previous start may still be closing.
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
        port = server.getAddress().getPort();
        workers = Executors.newFixedThreadPool(4);
        server.setExecutor(workers);
        server.createContext("/", this::handle);
        server.start();
    }

    /** Goes away: connections are refused until {@link #start()}. */
    synchronized void stop() {
        if (server != null) {
            server.stop(0);
            workers.shutdownNow();
            server = null;
        }
    }

    boolean running() {
        synchronized (this) {
            return server != null;
        }
    }

    /** The next call to the endpoint (e.g. {@code model-versions/create}) is carried out, then its connection drops without an answer. */
    void loseNextAnswerTo(String endpoint) {
        synchronized (models) {
            answersToLose.add(endpoint);
        }
    }

    /** Deletes the registered model as a user of MLflow would, behind the mirror's back. */
    void deleteByHand(String name) {
        synchronized (models) {
            if (models.remove(name) != null) {
                changes.add(new Change("delete-model", name, "by hand"));
            }
        }
    }

    /** The next call to the endpoint is refused as invalid ({@code INVALID_PARAMETER_VALUE}, 400) and changes nothing. */
    void refuseNextCallTo(String endpoint) {
        synchronized (models) {
            callsToRefuse.add(endpoint);
        }
    }

    // What tests read

    Model model(String name) {
        synchronized (models) {
            return models.get(name);
        }
    }

    /** A copy of the model's aliases (alias → version number); empty when there is no such model. */
    Map<String, String> aliases(String name) {
        synchronized (models) {
            Model m = models.get(name);
            return m == null ? Map.of() : new TreeMap<>(m.aliases);
        }
    }

    /** The model's versions by number; empty when there is no such model. */
    Map<String, Version> versions(String name) {
        synchronized (models) {
            Model m = models.get(name);
            return m == null ? Map.of() : new LinkedHashMap<>(m.versions);
        }
    }

    /** The changes made to the model, oldest first. */
    List<String> changesOf(String name) {
        synchronized (models) {
            return changes.stream().filter(c -> c.model().equals(name)).map(Change::toString).toList();
        }
    }

    /** How many calls the endpoint ({@code model-versions/create}) received for this model, answered or not. */
    int callsTo(String endpoint, String name) {
        synchronized (models) {
            return calls.getOrDefault(endpoint + " " + name, 0);
        }
    }

    // The API

    private record Call(String method, String endpoint, JsonNode body) {
    }

    /** An answer that refuses the call, as MLflow words it. */
    private static final class Refusal extends Exception {
        final int status;
        final String code;

        Refusal(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (path.equals(CHANGES)) {
                sendChanges(exchange);
                return;
            }
            // like MLflow's server: health and version answer without authentication, as plain text
            if (path.equals("/health") || path.equals("/version")) {
                send(exchange, 200, "text/plain", (path.equals("/health") ? "OK" : VERSION).getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (!path.startsWith(API)) {
                refuse(exchange, new Refusal(404, "ENDPOINT_NOT_FOUND", "No API endpoint at " + path));
                return;
            }
            String endpoint = path.substring(API.length());
            String method = exchange.getRequestMethod();
            Set<String> methods = methodsOf(endpoint);
            if (methods.isEmpty()) {
                refuse(exchange, new Refusal(404, "ENDPOINT_NOT_FOUND", "No API endpoint at " + path));
                return;
            }
            if (!methods.contains(method)) {
                send(exchange, 405, "text/html", "<h1>Method Not Allowed</h1>".getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (!("Bearer " + token).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                refuse(exchange, new Refusal(401, "UNAUTHENTICATED", "You are not authenticated"));
                return;
            }
            ObjectNode answer;
            boolean lose;
            try {
                Call call = new Call(method, endpoint, request(exchange, method));
                synchronized (models) {
                    String name = call.body().path("name").asText("");
                    calls.merge(method + " " + endpoint + " " + name, 1, Integer::sum);
                    calls.merge(endpoint + " " + name, 1, Integer::sum);
                    if (callsToRefuse.remove(endpoint)) {
                        throw invalid("Invalid value for parameter 'name' supplied: refused by the test");
                    }
                    answer = answer(call);
                    lose = !"GET".equals(method) && answersToLose.remove(endpoint);
                }
            } catch (Refusal r) {
                refuse(exchange, r);
                return;
            }
            if (lose) {
                // Carried out, but the caller never hears of it: the connection closes without an answer.
                return;
            }
            send(exchange, 200, "application/json", json.writeValueAsBytes(answer));
        }
    }

    private static Set<String> methodsOf(String endpoint) {
        return switch (endpoint) {
            case "registered-models/create", "model-versions/create", "model-versions/transition-stage" -> Set.of("POST");
            case "registered-models/delete" -> Set.of("DELETE");
            case "registered-models/get", "model-versions/get", "model-versions/search" -> Set.of("GET");
            case "registered-models/alias" -> Set.of("POST", "DELETE", "GET");
            default -> Set.of();
        };
    }

    /** The request's parameters: the JSON object of a POST or DELETE, the query of a GET. */
    private JsonNode request(HttpExchange exchange, String method) throws IOException, Refusal {
        if ("GET".equals(method)) {
            ObjectNode query = json.createObjectNode();
            String raw = exchange.getRequestURI().getRawQuery();
            if (raw != null && !raw.isEmpty()) {
                for (String pair : raw.split("&")) {
                    int eq = pair.indexOf('=');
                    String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                    String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                    query.put(key, value);
                }
            }
            return query;
        }
        String type = exchange.getRequestHeaders().getFirst("Content-Type");
        if (type == null || !type.toLowerCase().startsWith("application/json")) {
            throw invalid("Bad Request. Content-Type must be one of ['application/json'], not " + type);
        }
        JsonNode body;
        try (InputStream in = exchange.getRequestBody()) {
            byte[] bytes = in.readAllBytes();
            body = bytes.length == 0 ? json.createObjectNode() : json.readTree(bytes);
        } catch (IOException e) {
            throw invalid("The request body is not JSON: " + e.getMessage());
        }
        if (body == null || !body.isObject()) {
            throw invalid("The request body must be a JSON object");
        }
        return body;
    }

    private ObjectNode answer(Call call) throws Refusal {
        JsonNode p = call.body();
        return switch (call.method() + " " + call.endpoint()) {
            case "POST registered-models/create" -> {
                fields(p, "name", "tags", "description");
                String name = requiredString(p, "name");
                Map<String, String> tags = tags(p);
                String description = optionalString(p, "description");
                if (models.containsKey(name)) {
                    throw new Refusal(400, "RESOURCE_ALREADY_EXISTS", "Registered Model (name=" + name + ") already exists.");
                }
                Model m = new Model(name, description, tags);
                models.put(name, m);
                changes.add(new Change("create-model", name, ""));
                yield object("registered_model", modelJson(m));
            }
            case "GET registered-models/get" -> {
                fields(p, "name");
                yield object("registered_model", modelJson(existing(requiredString(p, "name"))));
            }
            case "DELETE registered-models/delete" -> {
                fields(p, "name");
                String name = requiredString(p, "name");
                existing(name);
                models.remove(name);
                changes.add(new Change("delete-model", name, ""));
                yield json.createObjectNode();
            }
            case "POST model-versions/create" -> {
                fields(p, "name", "source", "run_id", "tags", "run_link", "description");
                String name = requiredString(p, "name");
                String source = requiredString(p, "source");
                optionalString(p, "run_id");
                optionalString(p, "run_link");
                optionalString(p, "description");
                Map<String, String> tags = tags(p);
                Model m = existing(name);
                String number = String.valueOf(++m.lastNumber);
                Version v = new Version(number, source, tags, System.currentTimeMillis());
                m.versions.put(number, v);
                changes.add(new Change("create-version", name, number + " " + tags.get(MlflowRegistry.VERSION_TAG)));
                yield object("model_version", versionJson(m, v));
            }
            case "GET model-versions/get" -> {
                fields(p, "name", "version");
                Model m = existing(requiredString(p, "name"));
                yield object("model_version", versionJson(m, existingVersion(m, requiredString(p, "version"))));
            }
            case "GET model-versions/search" -> search(p);
            case "POST registered-models/alias" -> {
                fields(p, "name", "alias", "version");
                Model m = existing(requiredString(p, "name"));
                String alias = requiredString(p, "alias");
                String version = requiredString(p, "version");
                existingVersion(m, version);
                if (alias.equalsIgnoreCase("latest") || alias.matches("(?i)v\\d+")) {
                    throw invalid("'" + alias + "' is a reserved alias name");
                }
                m.aliases.put(alias, version);
                changes.add(new Change("set-alias", m.name, alias + "=" + version));
                yield json.createObjectNode();
            }
            case "DELETE registered-models/alias" -> {
                fields(p, "name", "alias");
                Model m = existing(requiredString(p, "name"));
                String alias = requiredString(p, "alias");
                if (m.aliases.remove(alias) != null) {
                    changes.add(new Change("delete-alias", m.name, alias));
                }
                yield json.createObjectNode();
            }
            case "GET registered-models/alias" -> {
                fields(p, "name", "alias");
                Model m = existing(requiredString(p, "name"));
                String alias = requiredString(p, "alias");
                String number = m.aliases.get(alias);
                if (number == null) {
                    throw new Refusal(404, "RESOURCE_DOES_NOT_EXIST", "Registered model alias " + alias + " not found.");
                }
                yield object("model_version", versionJson(m, m.versions.get(number)));
            }
            case "POST model-versions/transition-stage" -> {
                fields(p, "name", "version", "stage", "archive_existing_versions");
                Model m = existing(requiredString(p, "name"));
                Version v = existingVersion(m, requiredString(p, "version"));
                String stage = canonicalStage(requiredString(p, "stage"));
                JsonNode archive = p.get("archive_existing_versions");
                if (archive == null || !archive.isBoolean()) {
                    throw invalid("Missing value for required parameter 'archive_existing_versions'.");
                }
                if (archive.asBoolean() && (stage.equals("Staging") || stage.equals("Production"))) {
                    for (Version other : m.versions.values()) {
                        if (other != v && other.stage.equals(stage)) {
                            other.stage = "Archived";
                        }
                    }
                }
                v.stage = stage;
                changes.add(new Change("transition", m.name, v.number + "=" + stage));
                yield object("model_version", versionJson(m, v));
            }
            default -> throw new Refusal(404, "ENDPOINT_NOT_FOUND", "No API endpoint " + call.endpoint());
        };
    }

    private ObjectNode search(JsonNode p) throws Refusal {
        fields(p, "filter", "max_results", "order_by", "page_token");
        String filter = optionalString(p, "filter");
        Matcher name = NAME_FILTER.matcher(filter == null ? "" : filter);
        if (!name.matches()) {
            throw invalid("This server searches by name only, e.g. name='my-model'; got " + filter);
        }
        int max = PAGE;
        if (p.has("max_results")) {
            try {
                max = Math.min(PAGE, Integer.parseInt(p.get("max_results").asText()));
            } catch (NumberFormatException e) {
                throw invalid("Invalid value " + p.get("max_results") + " for parameter 'max_results'");
            }
            if (max < 1) {
                throw invalid("Invalid value " + max + " for parameter 'max_results'");
            }
        }
        int offset = 0;
        if (p.has("page_token")) {
            try {
                offset = Integer.parseInt(new String(Base64.getUrlDecoder().decode(p.get("page_token").asText()),
                        StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw invalid("Invalid page token");
            }
        }
        Model m = models.get(name.group(1));
        List<Version> all = m == null ? List.of() : new ArrayList<>(m.versions.values());
        ObjectNode answer = json.createObjectNode();
        if (offset < all.size()) {
            ArrayNode page = answer.putArray("model_versions");
            all.subList(offset, Math.min(all.size(), offset + max)).forEach(v -> page.add(versionJson(m, v)));
        }
        if (offset + max < all.size()) {
            answer.put("next_page_token", Base64.getUrlEncoder().encodeToString(
                    String.valueOf(offset + max).getBytes(StandardCharsets.UTF_8)));
        }
        return answer;
    }

    // Checks, as MLflow makes them

    private static void fields(JsonNode p, String... known) throws Refusal {
        Set<String> allowed = Set.of(known);
        for (Iterator<String> it = p.fieldNames(); it.hasNext();) {
            String field = it.next();
            if (!allowed.contains(field)) {
                throw invalid("Unknown parameter '" + field + "'");
            }
        }
    }

    private static String requiredString(JsonNode p, String field) throws Refusal {
        JsonNode value = p.get(field);
        if (value == null || value.isNull() || (value.isTextual() && value.asText().isEmpty())) {
            throw invalid("Missing value for required parameter '" + field + "'. See the API docs for more information"
                    + " about request parameters.");
        }
        if (!value.isTextual()) {
            throw invalid("Invalid value " + value + " for parameter '" + field + "' supplied. Hint: Value was of type '"
                    + value.getNodeType() + "'.");
        }
        return value.asText();
    }

    private static String optionalString(JsonNode p, String field) throws Refusal {
        JsonNode value = p.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw invalid("Invalid value " + value + " for parameter '" + field + "' supplied.");
        }
        return value.asText();
    }

    private static Map<String, String> tags(JsonNode p) throws Refusal {
        Map<String, String> tags = new LinkedHashMap<>();
        JsonNode list = p.get("tags");
        if (list == null || list.isNull()) {
            return tags;
        }
        if (!list.isArray()) {
            throw invalid("Invalid value " + list + " for parameter 'tags' supplied. Hint: Value was of type '"
                    + list.getNodeType() + "'.");
        }
        for (JsonNode tag : list) {
            if (!tag.isObject()) {
                throw invalid("A tag must be an object with key and value");
            }
            fields(tag, "key", "value");
            String key = requiredString(tag, "key");
            String value = optionalString(tag, "value");
            tags.put(key, value == null ? "" : value);
        }
        return tags;
    }

    private static String canonicalStage(String stage) throws Refusal {
        for (String s : STAGES) {
            if (s.equalsIgnoreCase(stage)) {
                return s;
            }
        }
        throw invalid("Invalid Model Version stage: " + stage + ". Value must be one of " + STAGES + ".");
    }

    private Model existing(String name) throws Refusal {
        Model m = models.get(name);
        if (m == null) {
            throw new Refusal(404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=" + name + " not found");
        }
        return m;
    }

    private static Version existingVersion(Model m, String number) throws Refusal {
        Version v = m.versions.get(number);
        if (v == null) {
            throw new Refusal(404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=" + m.name + ", version=" + number
                    + ") not found");
        }
        return v;
    }

    private static Refusal invalid(String message) {
        return new Refusal(400, "INVALID_PARAMETER_VALUE", message);
    }

    // JSON

    private ObjectNode object(String field, ObjectNode value) {
        ObjectNode o = json.createObjectNode();
        o.set(field, value);
        return o;
    }

    private ObjectNode modelJson(Model m) {
        ObjectNode o = json.createObjectNode().put("name", m.name);
        if (m.description != null) {
            o.put("description", m.description);
        }
        tagsJson(o, m.tags);
        if (!m.aliases.isEmpty()) {
            ArrayNode aliases = o.putArray("aliases");
            m.aliases.forEach((alias, version) -> aliases.addObject().put("alias", alias).put("version", version));
        }
        return o;
    }

    private ObjectNode versionJson(Model m, Version v) {
        ObjectNode o = json.createObjectNode().put("name", m.name).put("version", v.number)
                .put("creation_timestamp", v.createdAt).put("last_updated_timestamp", v.createdAt)
                .put("current_stage", v.stage).put("source", v.source).put("status", "READY");
        tagsJson(o, v.tags);
        List<String> aliases = m.aliases.entrySet().stream().filter(e -> e.getValue().equals(v.number))
                .map(Map.Entry::getKey).toList();
        if (!aliases.isEmpty()) {
            ArrayNode list = o.putArray("aliases");
            aliases.forEach(list::add);
        }
        return o;
    }

    private static void tagsJson(ObjectNode o, Map<String, String> tags) {
        if (!tags.isEmpty()) {
            ArrayNode list = o.putArray("tags");
            tags.forEach((key, value) -> list.addObject().put("key", key).put("value", value));
        }
    }

    private void sendChanges(HttpExchange exchange) throws IOException {
        String query = exchange.getRequestURI().getRawQuery();
        int since = query != null && query.startsWith("since=") ? Integer.parseInt(query.substring(6)) : 0;
        StringBuilder lines = new StringBuilder();
        synchronized (models) {
            for (Change c : changes.subList(Math.min(since, changes.size()), changes.size())) {
                lines.append(json.writeValueAsString(json.createObjectNode().put("at", c.at()).put("what", c.what())
                        .put("model", c.model()).put("detail", c.detail()))).append('\n');
            }
        }
        send(exchange, 200, "application/x-ndjson", lines.toString().getBytes(StandardCharsets.UTF_8));
    }

    private void refuse(HttpExchange exchange, Refusal r) throws IOException {
        ObjectNode error = json.createObjectNode().put("error_code", r.code).put("message", r.getMessage());
        send(exchange, r.status, "application/json", json.writeValueAsBytes(error));
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
