package dev.mlinfra.devstack;

import dev.mlinfra.devstack.process.FreePorts;
import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.StatObjectArgs;
import io.minio.http.Method;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The servers started in-process, exercised through the same clients the services use. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DevServersTest {

    private DevServers servers;
    private Map<String, String> state;

    @BeforeAll
    void startEverything() throws Exception {
        Path dataDir = Files.createTempDirectory("devstack-test-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        servers = new DevServers(DevServers.Config.of(dataDir, Set.copyOf(DevServers.COMPONENTS), List.of("datasets", "training")));
        servers.start();
        state = servers.state();
    }

    @AfterAll
    void stopEverything() {
        if (servers != null) {
            servers.close();
        }
    }

    @Test
    void stateNamesEveryServerAndItsCredentials() {
        for (String key : List.of(StateFile.POSTGRES_HOST, StateFile.POSTGRES_PORT, StateFile.POSTGRES_USERNAME,
                StateFile.POSTGRES_PASSWORD, StateFile.KAFKA_BOOTSTRAP_SERVERS, StateFile.S3_ENDPOINT,
                StateFile.S3_ACCESS_KEY, StateFile.S3_SECRET_KEY, StateFile.S3_REGION, StateFile.PID)) {
            assertTrue(state.containsKey(key) && !state.get(key).isBlank(), "state has " + key + ": " + state);
        }
        assertEquals("127.0.0.1", state.get(StateFile.POSTGRES_HOST));
        assertEquals("us-east-1", state.get(StateFile.S3_REGION));
        assertTrue(state.get(StateFile.KAFKA_BOOTSTRAP_SERVERS).startsWith("127.0.0.1:"));
        assertTrue(state.get(StateFile.S3_ENDPOINT).startsWith("http://127.0.0.1:"));
    }

    @Test
    void postgresAcceptsPasswordLoginsAndHasTheRequestedDatabases() throws Exception {
        try (Connection connection = connect("postgres");
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT datname FROM pg_database ORDER BY datname")) {
            List<String> databases = new ArrayList<>();
            while (rows.next()) {
                databases.add(rows.getString(1));
            }
            assertTrue(databases.containsAll(List.of("datasets", "training")), databases.toString());
        }
        try (Connection connection = connect("training");
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT current_setting('server_version_num')::int / 10000")) {
            rows.next();
            assertEquals(17, rows.getInt(1));
        }
        Properties wrongPassword = new Properties();
        wrongPassword.setProperty("user", state.get(StateFile.POSTGRES_USERNAME));
        wrongPassword.setProperty("password", "not-the-password");
        assertThrowsSql(() -> DriverManager.getConnection(servers.postgres().jdbcUrl("datasets"), wrongPassword).close());
    }

    @Test
    void postgresKeepsTablesAcrossARestartOnTheSamePort() throws Exception {
        int port = servers.postgres().port();
        try (Connection connection = connect("datasets"); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE restart_probe (id int PRIMARY KEY, note text)");
            statement.execute("INSERT INTO restart_probe VALUES (1, 'survives')");
        }

        servers.stop("postgres");
        assertFalse(servers.isRunning("postgres"));
        assertFalse(FreePorts.isListening(port), "nothing listens once PostgreSQL is stopped");
        servers.start("postgres");

        assertEquals(port, servers.postgres().port());
        try (Connection connection = connect("datasets");
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("SELECT note FROM restart_probe WHERE id = 1")) {
            assertTrue(rows.next());
            assertEquals("survives", rows.getString(1));
        }
    }

    @Test
    void kafkaDeliversWhatWasProducedIncludingTransactionalWrites() {
        String topic = "devstack-roundtrip-" + UUID.randomUUID();
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            producer.send(new ProducerRecord<>(topic, "k1", "plain")).get();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        try (KafkaProducer<String, String> producer = producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "devstack-test-tx"))) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k2", "transactional"));
            producer.commitTransaction();
        }

        assertEquals(List.of("plain", "transactional"), consume(topic, 2));
    }

    @Test
    void kafkaRestartsOnTheSamePortWithoutLosingMessages() throws Exception {
        String topic = "devstack-restart-" + UUID.randomUUID();
        String bootstrap = servers.kafka().bootstrapServers();
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            producer.send(new ProducerRecord<>(topic, "before")).get();
        }

        servers.stop("kafka");
        assertFalse(servers.isRunning("kafka"));
        assertFalse(FreePorts.isListening(servers.kafka().port()), "nothing listens once Kafka is stopped");
        servers.start("kafka");

        assertEquals(bootstrap, servers.kafka().bootstrapServers());
        try (KafkaProducer<String, String> producer = producer(Map.of())) {
            producer.send(new ProducerRecord<>(topic, "after")).get();
        }
        assertEquals(List.of("before", "after"), consume(topic, 2));
    }

    @Test
    void s3StoresObjectsSmallAndMultipartAndServesPresignedUrls() throws Exception {
        MinioClient s3 = minio();
        String bucket = "devstack-test";
        s3.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
        assertTrue(s3.bucketExists(BucketExistsArgs.builder().bucket(bucket).build()));

        byte[] small = "{\"text\": \"hello\"}\n".getBytes(StandardCharsets.UTF_8);
        s3.putObject(PutObjectArgs.builder().bucket(bucket).object("datasets/team/small.jsonl")
                .stream(new ByteArrayInputStream(small), small.length, -1).contentType("application/jsonl").build());
        try (InputStream in = s3.getObject(GetObjectArgs.builder().bucket(bucket).object("datasets/team/small.jsonl").build())) {
            assertArrayEquals(small, in.readAllBytes());
        }

        byte[] large = new byte[12 * 1024 * 1024];
        new Random(42).nextBytes(large);
        // 5 MiB parts: three parts through the multipart API
        s3.putObject(PutObjectArgs.builder().bucket(bucket).object("training/large.bin")
                .stream(new ByteArrayInputStream(large), -1, 5 * 1024 * 1024).build());
        assertEquals(large.length, s3.statObject(StatObjectArgs.builder().bucket(bucket).object("training/large.bin").build()).size());

        String url = s3.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                .method(Method.GET).bucket(bucket).object("training/large.bin").expiry(300).build());
        assertTrue(url.startsWith(state.get(StateFile.S3_ENDPOINT) + "/" + bucket + "/"), "path-style URL: " + url);
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, response.statusCode());
            assertArrayEquals(large, response.body());

            HttpResponse<String> unsigned = http.send(HttpRequest.newBuilder(
                    URI.create(state.get(StateFile.S3_ENDPOINT) + "/" + bucket + "/training/large.bin")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(403, unsigned.statusCode(), "anonymous reads are refused");
        }
    }

    @Test
    void s3CompletesAMultipartUploadByJoiningItsPartsWithTheirMetadata() throws Exception {
        MinioClient s3 = minio();
        String bucket = "devstack-multipart";
        s3.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
        int partSize = 5 * 1024 * 1024;
        byte[] data = new byte[2 * partSize + 12345];
        new Random(7).nextBytes(data);
        String name = "datasets/team-a/set/v1/data.jsonl";
        // an older object under the same name is replaced
        s3.putObject(PutObjectArgs.builder().bucket(bucket).object(name)
                .stream(new ByteArrayInputStream(new byte[] {1, 2, 3}), 3, -1).build());

        s3.putObject(PutObjectArgs.builder().bucket(bucket).object(name)
                .stream(new ByteArrayInputStream(data), -1, partSize)
                .contentType("application/x-ndjson").userMetadata(Map.of("origin", "upload-test")).build());

        try (InputStream in = s3.getObject(GetObjectArgs.builder().bucket(bucket).object(name).build())) {
            assertArrayEquals(data, in.readAllBytes());
        }
        var stat = s3.statObject(StatObjectArgs.builder().bucket(bucket).object(name).build());
        assertEquals(data.length, stat.size());
        assertEquals("application/x-ndjson", stat.contentType());
        assertEquals("upload-test", stat.userMetadata().get("origin"));
        // S3's multipart ETag: the MD5 of the parts' MD5s, then the number of parts
        java.security.MessageDigest ofParts = java.security.MessageDigest.getInstance("MD5");
        for (int from = 0; from < data.length; from += partSize) {
            ofParts.update(java.security.MessageDigest.getInstance("MD5")
                    .digest(java.util.Arrays.copyOfRange(data, from, Math.min(data.length, from + partSize))));
        }
        assertEquals(java.util.HexFormat.of().formatHex(ofParts.digest()) + "-3", stat.etag().replace("\"", ""));

        // nothing of the upload is left beside the object: no parts, no temporary file (the
        // filesystem backend lists each folder on the way as an entry of its own, ending in '/')
        List<String> objects = new ArrayList<>();
        for (var item : s3.listObjects(io.minio.ListObjectsArgs.builder().bucket(bucket).recursive(true).build())) {
            if (!item.get().objectName().endsWith("/")) {
                objects.add(item.get().objectName());
            }
        }
        assertEquals(List.of(name), objects);
        try (var files = Files.walk(Path.of(state.get("s3.data-dir")).resolve(bucket))) {
            List<String> leftovers = files.filter(Files::isRegularFile).map(Path::toString).filter(f -> f.contains(".mpus-")).toList();
            assertEquals(List.of(), leftovers);
        }
    }

    @Test
    void s3AssemblesPartsThatArriveOutOfOrderOrTwiceAndForgetsAbortedUploads() throws Exception {
        String bucket = "devstack-parts";
        RawS3 s3 = new RawS3();
        assertEquals(200, s3.send("PUT", "/" + bucket, null).code());
        int partSize = 5 * 1024 * 1024;
        Random random = new Random(11);
        byte[] one = new byte[partSize];
        byte[] oneAgain = new byte[partSize];
        byte[] two = new byte[partSize];
        byte[] three = new byte[4321];
        random.nextBytes(one);
        random.nextBytes(oneAgain);
        random.nextBytes(two);
        random.nextBytes(three);

        // part 2 before part 1 (it cannot be placed yet), part 1 twice (the second one counts), then the last part
        String key = "/" + bucket + "/out-of-order.bin";
        String upload = s3.startUpload(key);
        String etag2 = s3.part(key, upload, 2, two);
        s3.part(key, upload, 1, one);
        String etag1 = s3.part(key, upload, 1, oneAgain);
        String etag3 = s3.part(key, upload, 3, three);
        var completed = s3.complete(key, upload, List.of(etag1, etag2, etag3));
        assertEquals(200, completed.code(), completed.body());
        var object = s3.send("GET", key, null);
        assertEquals(200, object.code());
        java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        expected.write(oneAgain);
        expected.write(two);
        expected.write(three);
        assertArrayEquals(expected.toByteArray(), object.bytes());

        // in order: part 1 fixes where the others go
        String inOrder = "/" + bucket + "/in-order.bin";
        upload = s3.startUpload(inOrder);
        List<String> etags = List.of(s3.part(inOrder, upload, 1, one), s3.part(inOrder, upload, 2, two), s3.part(inOrder, upload, 3, three));
        var listed = s3.send("GET", inOrder + "?uploadId=" + upload, null);
        assertTrue(listed.body().contains("<Size>" + three.length + "</Size>"), listed.body());
        assertTrue(listed.body().contains(etags.get(1).replace("\"", "")), listed.body());
        assertEquals(200, s3.complete(inOrder, upload, etags).code());
        expected.reset();
        expected.write(one);
        expected.write(two);
        expected.write(three);
        assertArrayEquals(expected.toByteArray(), s3.send("GET", inOrder, null).bytes());

        // a last part longer than part 1 cannot be placed: the parts are joined at completion
        String longerLast = "/" + bucket + "/longer-last.bin";
        upload = s3.startUpload(longerLast);
        byte[] bigger = new byte[partSize + 777];
        random.nextBytes(bigger);
        etags = List.of(s3.part(longerLast, upload, 1, one), s3.part(longerLast, upload, 2, bigger));
        assertEquals(200, s3.complete(longerLast, upload, etags).code());
        expected.reset();
        expected.write(one);
        expected.write(bigger);
        assertArrayEquals(expected.toByteArray(), s3.send("GET", longerLast, null).bytes());

        // an aborted upload leaves nothing behind
        String aborted = "/" + bucket + "/aborted.bin";
        upload = s3.startUpload(aborted);
        s3.part(aborted, upload, 1, one);
        s3.part(aborted, upload, 2, two);
        assertEquals(204, s3.send("DELETE", aborted + "?uploadId=" + upload, null).code());
        assertEquals(404, s3.send("GET", aborted, null).code());

        // parts placed before the store restarted are gone with its memory: completing fails
        // instead of storing an object with a hole, and aborting removes what is left
        String interrupted = "/" + bucket + "/interrupted.bin";
        upload = s3.startUpload(interrupted);
        etags = List.of(s3.part(interrupted, upload, 1, one), s3.part(interrupted, upload, 2, three));
        servers.stop("s3");
        servers.start("s3");
        var refused = s3.complete(interrupted, upload, etags);
        // (s3proxy answers a completion with 200 and the start of the result before it completes;
        // a failure then cuts the result short)
        assertFalse(refused.code() == 200 && refused.body().contains("</CompleteMultipartUploadResult>"),
                "completion after a restart: " + refused.code() + " " + refused.body());
        assertEquals(404, s3.send("GET", interrupted, null).code());
        assertEquals(204, s3.send("DELETE", interrupted + "?uploadId=" + upload, null).code());
        try (var files = Files.walk(Path.of(state.get("s3.data-dir")).resolve(bucket))) {
            List<String> leftovers = files.filter(Files::isRegularFile).map(Path::toString).filter(f -> f.contains(".mpus-")).toList();
            assertEquals(List.of(), leftovers);
        }
    }

    /** Signed requests to the object store, for what the MinIO client does not expose (parts out of order). */
    private final class RawS3 {
        record Answer(int code, byte[] bytes, String etag) {
            String body() {
                return new String(bytes, StandardCharsets.UTF_8);
            }
        }

        private final okhttp3.OkHttpClient http = new okhttp3.OkHttpClient();

        Answer send(String method, String pathAndQuery, byte[] body) throws Exception {
            okhttp3.RequestBody payload = body != null ? okhttp3.RequestBody.create(body)
                    : method.equals("GET") || method.equals("DELETE") ? null : okhttp3.RequestBody.create(new byte[0]);
            try (okhttp3.Response response = http.newCall(signed(method, pathAndQuery, payload)).execute()) {
                return new Answer(response.code(), response.body() == null ? new byte[0] : response.body().bytes(),
                        response.header("ETag"));
            }
        }

        private okhttp3.Request signed(String method, String pathAndQuery, okhttp3.RequestBody body) throws Exception {
            okhttp3.HttpUrl url = okhttp3.HttpUrl.get(state.get(StateFile.S3_ENDPOINT) + pathAndQuery);
            okhttp3.Request request = new okhttp3.Request.Builder().url(url).method(method, body)
                    .header("Host", url.host() + ":" + url.port())
                    .header("x-amz-date", java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC)
                            .format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")))
                    .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
                    .build();
            return io.minio.Signer.signV4S3(request, state.get(StateFile.S3_REGION),
                    state.get(StateFile.S3_ACCESS_KEY), state.get(StateFile.S3_SECRET_KEY), "UNSIGNED-PAYLOAD");
        }

        String startUpload(String key) throws Exception {
            Answer answer = send("POST", key + "?uploads=", null);
            assertEquals(200, answer.code(), answer.body());
            java.util.regex.Matcher id = java.util.regex.Pattern.compile("<UploadId>([^<]+)</UploadId>").matcher(answer.body());
            assertTrue(id.find(), answer.body());
            return id.group(1);
        }

        String part(String key, String upload, int number, byte[] bytes) throws Exception {
            Answer answer = send("PUT", key + "?partNumber=" + number + "&uploadId=" + upload, bytes);
            assertEquals(200, answer.code(), answer.body());
            assertEquals("\"" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5").digest(bytes)) + "\"",
                    answer.etag(), "a part's ETag is its MD5");
            return answer.etag();
        }

        Answer complete(String key, String upload, List<String> etags) throws Exception {
            StringBuilder xml = new StringBuilder("<CompleteMultipartUpload>");
            for (int i = 0; i < etags.size(); i++) {
                xml.append("<Part><PartNumber>").append(i + 1).append("</PartNumber><ETag>").append(etags.get(i)).append("</ETag></Part>");
            }
            xml.append("</CompleteMultipartUpload>");
            return send("POST", key + "?uploadId=" + upload, xml.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private MinioClient minio() {
        return MinioClient.builder()
                .endpoint(state.get(StateFile.S3_ENDPOINT))
                .credentials(state.get(StateFile.S3_ACCESS_KEY), state.get(StateFile.S3_SECRET_KEY))
                .region(state.get(StateFile.S3_REGION))
                .build();
    }

    private Connection connect(String database) throws Exception {
        return DriverManager.getConnection(servers.postgres().jdbcUrl(database),
                state.get(StateFile.POSTGRES_USERNAME), state.get(StateFile.POSTGRES_PASSWORD));
    }

    private KafkaProducer<String, String> producer(Map<String, Object> extra) {
        Map<String, Object> config = new java.util.HashMap<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers.kafka().bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000));
        config.putAll(extra);
        return new KafkaProducer<>(config);
    }

    private List<String> consume(String topic, int expected) {
        Map<String, Object> config = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers.kafka().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "devstack-test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                    values.add(record.value());
                }
            }
        }
        return values;
    }

    private interface SqlAction {
        void run() throws Exception;
    }

    private static void assertThrowsSql(SqlAction action) {
        try {
            action.run();
        } catch (java.sql.SQLException expected) {
            assertTrue(expected.getMessage().contains("password authentication failed"), expected.getMessage());
            return;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("login with a wrong password succeeded");
    }
}
