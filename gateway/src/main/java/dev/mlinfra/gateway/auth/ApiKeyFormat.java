package dev.mlinfra.gateway.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * API keys look like {@code mlk_<key id: 16 hex>_<secret: 32 url-safe characters>}. The key id
 * finds the stored record; the whole key is compared through its SHA-256 hash in constant time.
 * (A fast hash is enough: the secret has 192 random bits, so no dictionary can reach it.)
 */
public final class ApiKeyFormat {

    private static final Pattern FORMAT = Pattern.compile("mlk_([0-9a-f]{16})_([A-Za-z0-9_-]{32})");
    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiKeyFormat() {
    }

    /** A fresh random key. */
    public static String generate() {
        byte[] id = new byte[8];
        byte[] secret = new byte[24];
        RANDOM.nextBytes(id);
        RANDOM.nextBytes(secret);
        return "mlk_" + HexFormat.of().formatHex(id) + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    /** The key id of a well-formed key. */
    public static Optional<String> keyId(String key) {
        if (key == null) {
            return Optional.empty();
        }
        Matcher m = FORMAT.matcher(key);
        return m.matches() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /**
     * One SHA-256 digest per thread: every request checks its key, and looking the algorithm up
     * among the security providers cost more than hashing the key.
     */
    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    public static byte[] hash(String key) {
        // digest() resets the digest for the next use
        return SHA_256.get().digest(key.getBytes(StandardCharsets.UTF_8));
    }

    /** Constant-time comparison of a presented key with a stored hash. */
    public static boolean matches(String presented, byte[] storedHash) {
        return MessageDigest.isEqual(hash(presented), storedHash);
    }

    public static String describe() {
        return "mlk_<16 hex digits>_<32 characters of A-Z a-z 0-9 _ ->";
    }
}
