package dev.mlinfra.testsupport;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;
import java.util.Set;

/**
 * The test resource of every {@code @QuarkusTest}: points the application at the devstack of this
 * JVM (see {@link Devstack}), started on first use and shared by all test classes.
 *
 * <pre>{@code
 * @WithTestResource(value = DevstackResource.class, initArgs = {
 *         @ResourceArg(name = DevstackResource.DATABASE, value = "datasets")})
 * }</pre>
 *
 * Init args: {@value #DATABASE} (required) names the service's database, created when missing;
 * {@value #COMPONENTS} (optional, default {@code postgres,kafka,s3}) limits what is started.
 * The configuration returned: {@code quarkus.datasource.reactive.url}, {@code quarkus.datasource.jdbc.url},
 * {@code quarkus.datasource.username}, {@code quarkus.datasource.password}, {@code kafka.bootstrap.servers},
 * {@code mlinfra.s3.endpoint}, {@code mlinfra.s3.access-key}, {@code mlinfra.s3.secret-key},
 * {@code mlinfra.s3.region}, {@code mp.jwt.verify.publickey.location} (services verify identity
 * tokens with the devstack's public key), {@code mlinfra.identity.current-key} and
 * {@code mlinfra.identity.keys.devstack.*} (the gateway signs with the devstack's key).
 */
public class DevstackResource implements QuarkusTestResourceLifecycleManager {

    /** Init arg: the service's own database. */
    public static final String DATABASE = "database";
    /** Init arg: comma-separated subset of {@code postgres,kafka,s3}. */
    public static final String COMPONENTS = "components";

    private String database;
    private Set<String> components = Devstack.ALL_COMPONENTS;

    @Override
    public void init(Map<String, String> initArgs) {
        database = initArgs.get(DATABASE);
        if (database == null || database.isBlank()) {
            throw new IllegalArgumentException("DevstackResource needs the init arg '" + DATABASE + "' (the service's database),"
                    + " e.g. @WithTestResource(value = DevstackResource.class, initArgs = @ResourceArg(name = \"database\","
                    + " value = \"datasets\"))");
        }
        components = DevstackProcess.parseComponents(initArgs.get(COMPONENTS));
    }

    @Override
    public Map<String, String> start() {
        if (database == null) {
            throw new IllegalStateException("DevstackResource was started without init args; it needs '" + DATABASE + "'");
        }
        Devstack.start(components);
        return Devstack.serviceConfig(database);
    }

    @Override
    public void stop() {
        // shared by every test class of this JVM: it stops when the JVM exits
    }
}
