package dev.mlinfra.devstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Base64;

/**
 * The RSA key pair the gateway signs internal identity tokens with: a PKCS#8 private key
 * ({@code -----BEGIN PRIVATE KEY-----}, file mode 600) and its X.509 public key
 * ({@code -----BEGIN PUBLIC KEY-----}). JDK only.
 *
 * @param privateKey path of {@value #PRIVATE_KEY_FILE}
 * @param publicKey  path of {@value #PUBLIC_KEY_FILE}
 */
public record IdentityKeys(Path privateKey, Path publicKey) {

    public static final String PRIVATE_KEY_FILE = "identity-private.pem";
    public static final String PUBLIC_KEY_FILE = "identity-public.pem";

    private static final int KEY_SIZE = 2048;
    private static final int PEM_LINE_LENGTH = 64;

    /**
     * Writes the key pair into {@code dir} unless it is there already. A private key without its
     * public half gets the public half derived from it; a lone public key is replaced, since
     * nothing can sign for it.
     */
    public static IdentityKeys ensure(Path dir) throws IOException {
        Files.createDirectories(dir);
        IdentityKeys keys = new IdentityKeys(dir.resolve(PRIVATE_KEY_FILE), dir.resolve(PUBLIC_KEY_FILE));
        boolean hasPrivate = Files.isRegularFile(keys.privateKey());
        boolean hasPublic = Files.isRegularFile(keys.publicKey());
        if (hasPrivate && hasPublic) {
            return keys;
        }
        try {
            if (hasPrivate) {
                writePem(keys.publicKey(), "PUBLIC KEY", publicKeyOf(keys.privateKey()).getEncoded(), false);
            } else {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
                generator.initialize(KEY_SIZE);
                KeyPair pair = generator.generateKeyPair();
                writePem(keys.privateKey(), "PRIVATE KEY", pair.getPrivate().getEncoded(), true);
                writePem(keys.publicKey(), "PUBLIC KEY", pair.getPublic().getEncoded(), false);
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot create the identity key pair in " + dir, e);
        }
        return keys;
    }

    private static PublicKey publicKeyOf(Path privateKeyPem) throws IOException, GeneralSecurityException {
        String pem = Files.readString(privateKeyPem, StandardCharsets.US_ASCII);
        String body = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
        KeyFactory factory = KeyFactory.getInstance("RSA");
        var privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
        if (!(privateKey instanceof RSAPrivateCrtKey crt)) {
            throw new IOException(privateKeyPem + " holds no RSA private key with its public exponent");
        }
        return factory.generatePublic(new RSAPublicKeySpec(crt.getModulus(), crt.getPublicExponent()));
    }

    private static void writePem(Path target, String type, byte[] der, boolean secret) throws IOException {
        String body = Base64.getMimeEncoder(PEM_LINE_LENGTH, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der);
        String pem = "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
        Path temp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        try {
            // created with its final permissions, so the secret is never readable by others
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--")));
        } catch (FileAlreadyExistsException e) {
            throw new IOException("concurrent key generation in " + target.getParent(), e);
        }
        Files.writeString(temp, pem, StandardCharsets.US_ASCII);
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
