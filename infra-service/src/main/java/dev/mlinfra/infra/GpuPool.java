package dev.mlinfra.infra;

import dev.mlinfra.commons.persistence.TextEnum;
import dev.mlinfra.commons.persistence.TextEnumConverter;
import io.quarkus.hibernate.reactive.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Converter;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/**
 * A pool of capacity as configured, synchronised from configuration at every start. Its row is
 * the lock that serialises the ledger's decisions about the pool: whoever changes a request of
 * the pool holds it, so replicas that consume concurrently never grant the same capacity twice.
 */
@Entity
@Table(name = "gpu_pool")
public class GpuPool extends PanacheEntityBase {

    /** What a pool counts. */
    public enum Kind implements TextEnum {
        /** GPUs of GPU nodes. */
        GPU("gpu", "GPU", "GPUs"),
        /** Execution slots of a machine without GPUs: how many jobs or deployments may run at once. */
        SLOT("slot", "execution slot", "execution slots");

        private final String value;
        private final String one;
        private final String many;

        Kind(String value, String one, String many) {
            this.value = value;
            this.one = one;
            this.many = many;
        }

        @Override
        public String value() {
            return value;
        }

        /** {@code "1 execution slot"}, {@code "8 GPUs"}. */
        public String count(long n) {
            return n + " " + (n == 1 ? one : many);
        }
    }

    @Converter(autoApply = true)
    public static class KindConverter extends TextEnumConverter<Kind> {
        public KindConverter() {
            super(Kind.class);
        }
    }

    @Id
    public String name;

    @Column(nullable = false)
    public Kind kind;

    @Column(nullable = false)
    public int size;

    /** False once the pool left the configuration: nothing more is granted from it; what it granted stays until released. */
    @Column(nullable = false)
    public boolean configured;

    @Column(name = "updated_at", nullable = false)
    public Instant updatedAt;
}
