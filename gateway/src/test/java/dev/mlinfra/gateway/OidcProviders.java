package dev.mlinfra.gateway;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Local OpenID Connect providers for the gateway under test, each with an RSA key of its own, on one
 * HTTP server: {@code /<name>/.well-known/openid-configuration} (the discovery document quarkus-oidc
 * reads), {@code /<name>/jwks} (the public key) and {@code POST /<name>/token}, which signs the JSON
 * claims it is sent (RS256) and answers {@code {"access_token": ...}}, as a token endpoint would.
 * <ul>
 * <li>{@code corp}: a configured provider, with the default claim mapping (team claim {@code team},
 * scopes in the space-separated {@code scope}).</li>
 * <li>{@code partner}: a second configured provider, with its own mapping: the team is the group
 * {@code mlinfra-<team>} of {@code groups}, the scopes are the {@code mlinfra:<scope>} entries of the
 * array {@code realm_access/roles}. It is unreachable while the gateway starts: its first discovery
 * request gets the connection dropped.</li>
 * <li>{@code elsewhere}: a provider the gateway does not know (its tokens have an unknown issuer).</li>
 * <li>{@code forger}: signs with a key of its own whatever it is sent, an issuer of another provider included.</li>
 * </ul>
 */
public class OidcProviders implements QuarkusTestResourceLifecycleManager {

    /** The audience the gateway expects of every provider's tokens. */
    public static final String AUDIENCE = "mlinfra-api";
    /** Gateway's log while these tests run, for the test that no token reaches it. */
    public static final java.nio.file.Path GATEWAY_LOG = java.nio.file.Path.of("target", "gateway-oidc-test.log").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PROVIDERS = {"corp", "partner", "elsewhere", "forger"};

    private final Map<String, KeyPair> keys = new HashMap<>();
    private final AtomicBoolean partnerDown = new AtomicBoolean(true);
    private HttpServer server;
    private ExecutorService executor;
    private String baseUrl;

    @Override
    public Map<String, String> start() {
        try {
            // this run's lines only: a test reads what the gateway logged at start
            java.nio.file.Files.deleteIfExists(GATEWAY_LOG);
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            for (String provider : PROVIDERS) {
                keys.put(provider, generator.generateKeyPair());
            }
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        executor = Executors.newCachedThreadPool();
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
        baseUrl = "http://127.0.0.1:" + server.getAddress().getPort();

        Map<String, String> config = new HashMap<>();
        config.put("mlinfra.gateway.oidc.enabled", "true");
        for (String tenant : new String[] {"corp", "partner"}) {
            config.put("quarkus.oidc." + tenant + ".auth-server-url", baseUrl + "/" + tenant);
            config.put("quarkus.oidc." + tenant + ".token.audience", AUDIENCE);
        }
        config.put("mlinfra.gateway.oidc.providers.partner.team-claim", "groups");
        config.put("mlinfra.gateway.oidc.providers.partner.team-prefix", "mlinfra-");
        config.put("mlinfra.gateway.oidc.providers.partner.scopes-claim", "realm_access/roles");
        config.put("mlinfra.gateway.oidc.providers.partner.scope-prefix", "mlinfra:");
        config.put("quarkus.log.file.enabled", "true");
        config.put("quarkus.log.file.path", GATEWAY_LOG.toString());
        return config;
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        String[] parts = exchange.getRequestURI().getPath().split("/", 3);
        String provider = parts.length > 1 ? parts[1] : "";
        String rest = parts.length > 2 ? parts[2] : "";
        KeyPair key = keys.get(provider);
        if (key == null) {
            respond(exchange, 404, "{}");
            return;
        }
        String issuer = baseUrl + "/" + provider;
        switch (rest) {
            case ".well-known/openid-configuration" -> {
                if (provider.equals("partner") && partnerDown.getAndSet(false)) {
                    // an exception out of a handler makes the JDK server drop the connection unanswered
                    throw new IOException("partner provider unreachable on purpose");
                }
                ObjectNode discovery = JSON.createObjectNode()
                        .put("issuer", issuer)
                        .put("jwks_uri", issuer + "/jwks")
                        .put("token_endpoint", issuer + "/token")
                        .put("authorization_endpoint", issuer + "/authorize");
                discovery.putArray("id_token_signing_alg_values_supported").add("RS256");
                discovery.putArray("response_types_supported").add("code");
                discovery.putArray("subject_types_supported").add("public");
                respond(exchange, 200, JSON.writeValueAsString(discovery));
            }
            case "jwks" -> {
                RSAPublicKey publicKey = (RSAPublicKey) key.getPublic();
                ObjectNode jwks = JSON.createObjectNode();
                jwks.putArray("keys").addObject()
                        .put("kty", "RSA").put("use", "sig").put("alg", "RS256").put("kid", provider + "-1")
                        .put("n", base64Url(unsigned(publicKey.getModulus())))
                        .put("e", base64Url(unsigned(publicKey.getPublicExponent())));
                respond(exchange, 200, JSON.writeValueAsString(jwks));
            }
            case "token" -> {
                byte[] claims = exchange.getRequestBody().readAllBytes();
                // the forger names the kid of the provider whose issuer it claims, so only the signature is wrong
                String kid = provider.equals("forger") ? "corp-1" : provider + "-1";
                String token = sign(key, kid, claims);
                respond(exchange, 200, JSON.writeValueAsString(JSON.createObjectNode().put("access_token", token)));
            }
            default -> respond(exchange, 404, "{}");
        }
    }

    private static String sign(KeyPair key, String kid, byte[] claims) {
        try {
            String header = base64Url(JSON.writeValueAsBytes(
                    JSON.createObjectNode().put("alg", "RS256").put("typ", "JWT").put("kid", kid)));
            String signingInput = header + "." + base64Url(claims);
            Signature signature = Signature.getInstance("SHA256withRSA");
            signature.initSign(key.getPrivate());
            signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
            return signingInput + "." + base64Url(signature.sign());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] unsigned(BigInteger value) {
        byte[] bytes = value.toByteArray();
        return bytes[0] == 0 ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes;
    }

    private static String base64Url(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
