package dev.mlinfra.testsupport;

import dev.mlinfra.commons.identity.Identity;
import dev.mlinfra.commons.identity.IdentityTokenIssuer;
import dev.mlinfra.commons.identity.PemKeys;

import java.time.Clock;
import java.time.Duration;
import java.util.Set;

/**
 * Identity tokens for tests that call a service directly (header {@code x-mlinfra-identity}), signed
 * with the devstack's identity key exactly as the gateway signs them, for the default issuer and
 * audience of {@code mlinfra.identity.*}.
 */
public final class TestIdentities {

    private static final String ISSUER = "mlinfra-gateway";
    private static final String AUDIENCE = "mlinfra-services";
    private static final Duration LIFETIME = Duration.ofMinutes(30);

    private static IdentityTokenIssuer issuer;

    private TestIdentities() {
    }

    /** A token for {@code team} with the given scopes ({@code read}, {@code write}, {@code admin}); key id {@code test-<team>}. */
    public static String token(String team, String... scopes) {
        return token(new Identity("test-" + team, team, Set.of(scopes)));
    }

    public static String token(Identity identity) {
        return issuer().issue(identity).value();
    }

    private static synchronized IdentityTokenIssuer issuer() {
        if (issuer == null) {
            issuer = new IdentityTokenIssuer(
                    PemKeys.readPrivate(Devstack.identityPrivateKey().toString()),
                    PemKeys.readPublic(Devstack.identityPublicKey().toString()),
                    ISSUER, AUDIENCE, LIFETIME, Clock.systemUTC());
        }
        return issuer;
    }
}
