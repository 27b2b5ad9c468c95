package dev.mlinfra.infra.probe;

import io.smallrye.mutiny.Uni;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeFeaturesOptions;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.admin.SupportedVersionRange;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.server.common.MetadataVersion;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Kafka: the cluster's metadata (id, brokers) and its features. A broker reports no release string; the
 * highest {@code metadata.version} it supports names its release (Kafka's own table maps the level).
 */
@ApplicationScoped
public class KafkaProbe implements ComponentProbe {

    static final String KEY = "kafka";

    private final String bootstrapServers;
    private volatile Admin admin;

    public KafkaProbe(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    private Admin admin(Duration timeout) {
        if (admin == null) {
            synchronized (this) {
                if (admin == null) {
                    Properties p = new Properties();
                    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
                    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "infra-service-status");
                    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
                    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
                    p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
                    admin = Admin.create(p);
                }
            }
        }
        return admin;
    }

    @PreDestroy
    void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(1));
        }
    }

    @Override
    public Uni<List<Entry>> probe(Map<String, String> forwarded, Duration timeout) {
        long started = System.nanoTime();
        int ms = (int) timeout.toMillis();
        return Uni.createFrom().deferred(() -> {
                    Admin a = admin(timeout);
                    DescribeClusterResult cluster = a.describeCluster(new DescribeClusterOptions().timeoutMs(ms));
                    Uni<String> id = from(cluster.clusterId());
                    Uni<Integer> brokers = from(cluster.nodes()).map(java.util.Collection::size);
                    Uni<FeatureMetadata> features = from(a.describeFeatures(new DescribeFeaturesOptions().timeoutMs(ms)).featureMetadata());
                    return Uni.combine().all().unis(id, brokers, features).asTuple();
                })
                .map(t -> {
                    FeatureMetadata f = t.getItem3();
                    SupportedVersionRange supported = f.supportedFeatures().get(MetadataVersion.FEATURE_NAME);
                    FinalizedVersionRange finalized = f.finalizedFeatures().get(MetadataVersion.FEATURE_NAME);
                    return ComponentStatus.healthy(supported == null ? null : release(supported.maxVersion()))
                            .with("metadata_version", finalized == null ? null : level(finalized.maxVersionLevel()))
                            .withInternal("cluster_id", t.getItem1())
                            .with("brokers", t.getItem2());
                })
                .ifNoItem().after(timeout).recoverWithItem(() -> ComponentStatus.unhealthy("did not answer within " + ms + " ms"))
                .onFailure().recoverWithItem(e -> ComponentStatus.unhealthy(HttpProbe.reason(e)))
                .map(s -> List.of(new Entry(KEY, s.withInternal("endpoint", bootstrapServers)
                        .with("latency_ms", (System.nanoTime() - started) / 1_000_000), true)));
    }

    /** The release a supported metadata.version level belongs to, e.g. {@code 4.1}; the raw level when Kafka's table does not know it. */
    private static String release(short level) {
        try {
            return MetadataVersion.fromFeatureLevel(level).shortVersion();
        } catch (IllegalArgumentException e) {
            return "metadata.version " + level;
        }
    }

    private static String level(short level) {
        try {
            return MetadataVersion.fromFeatureLevel(level).version();
        } catch (IllegalArgumentException e) {
            return String.valueOf(level);
        }
    }

    private static <T> Uni<T> from(KafkaFuture<T> future) {
        return Uni.createFrom().completionStage(future.toCompletionStage());
    }

    @Override
    public Map<String, Boolean> keys() {
        return Map.of(KEY, true);
    }
}
