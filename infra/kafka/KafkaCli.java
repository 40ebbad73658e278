// A small Kafka client for infra/kafka/kafka.sh: the readiness check (a real Kafka API
// call, not a port probe) and a few commands to poke the test broker by hand. It runs on
// the broker's own classpath (kafka-clients is on it), so it needs nothing else.
//
//   java -cp <classpath> KafkaCli.java <bootstrap> <command> [args]   (or compiled, as kafka.sh does)
//
// commands:
//   ready [timeoutMs]                           describe the cluster; exit 0 when it answers
//   topics                                      list topics (internal ones too)
//   create-topic <topic> [partitions] [rf]      create a topic (ok if it exists); defaults 3, 1
//   delete-topic <topic>                        delete a topic
//   produce <topic> <key> <value>               send one record, acks=all; print partition@offset
//   consume <topic> <count> [timeoutMs]         read <count> records from the beginning with a
//                                               fresh consumer group; print key<TAB>value
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class KafkaCli {
    private KafkaCli() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            usage();
        }
        String bootstrap = args[0];
        String command = args[1];
        String[] rest = new String[args.length - 2];
        System.arraycopy(args, 2, rest, 0, rest.length);
        int code;
        switch (command) {
            case "ready": code = ready(bootstrap, rest); break;
            case "topics": code = topics(bootstrap); break;
            case "create-topic": code = createTopic(bootstrap, rest); break;
            case "delete-topic": code = deleteTopic(bootstrap, rest); break;
            case "produce": code = produce(bootstrap, rest); break;
            case "consume": code = consume(bootstrap, rest); break;
            default: usage(); return;
        }
        System.exit(code);
    }

    private static void usage() {
        System.err.println("usage: KafkaCli <bootstrap> ready [timeoutMs] | topics | create-topic <topic> [partitions] [rf]"
                + " | delete-topic <topic> | produce <topic> <key> <value> | consume <topic> <count> [timeoutMs]");
        System.exit(2);
    }

    private static Properties adminProps(String bootstrap, int timeoutMs) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "orchestron-kafka-cli");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        // fail fast while the broker is not up yet: kafka.sh polls
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, 100);
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        return p;
    }

    private static int ready(String bootstrap, String[] rest) {
        int timeoutMs = rest.length > 0 ? Integer.parseInt(rest[0]) : 3000;
        try (Admin admin = Admin.create(adminProps(bootstrap, timeoutMs))) {
            DescribeClusterResult cluster = admin.describeCluster(new DescribeClusterOptions().timeoutMs(timeoutMs));
            String id = cluster.clusterId().get(timeoutMs, TimeUnit.MILLISECONDS);
            int nodes = cluster.nodes().get(timeoutMs, TimeUnit.MILLISECONDS).size();
            // A broker that is up but not yet serving metadata would fail this call.
            admin.listTopics(new ListTopicsOptions().timeoutMs(timeoutMs).listInternal(true))
                    .names().get(timeoutMs, TimeUnit.MILLISECONDS);
            System.out.println("cluster " + id + ", " + nodes + " broker(s) at " + bootstrap);
            return 0;
        } catch (Exception e) {
            System.err.println("not ready: " + rootMessage(e));
            return 1;
        }
    }

    private static int topics(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(adminProps(bootstrap, 10000))) {
            List<String> names = new ArrayList<>(admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get());
            Collections.sort(names);
            names.forEach(System.out::println);
            return 0;
        }
    }

    private static int createTopic(String bootstrap, String[] rest) throws Exception {
        if (rest.length < 1) usage();
        String topic = rest[0];
        int partitions = rest.length > 1 ? Integer.parseInt(rest[1]) : 3;
        short rf = rest.length > 2 ? Short.parseShort(rest[2]) : 1;
        try (Admin admin = Admin.create(adminProps(bootstrap, 10000))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, rf))).all().get();
            System.out.println("created topic " + topic + " (" + partitions + " partitions, replication " + rf + ")");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                System.out.println("topic " + topic + " already exists");
                return 0;
            }
            throw e;
        }
        return 0;
    }

    private static int deleteTopic(String bootstrap, String[] rest) throws Exception {
        if (rest.length < 1) usage();
        try (Admin admin = Admin.create(adminProps(bootstrap, 10000))) {
            admin.deleteTopics(List.of(rest[0])).all().get();
            System.out.println("deleted topic " + rest[0]);
        }
        return 0;
    }

    private static int produce(String bootstrap, String[] rest) throws Exception {
        if (rest.length < 3) usage();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            RecordMetadata md = producer.send(new ProducerRecord<>(rest[0], rest[1], rest[2])).get(30, TimeUnit.SECONDS);
            System.out.println("produced to " + md.topic() + "-" + md.partition() + "@" + md.offset());
        }
        return 0;
    }

    private static int consume(String bootstrap, String[] rest) {
        if (rest.length < 2) usage();
        String topic = rest[0];
        int count = Integer.parseInt(rest[1]);
        long timeoutMs = rest.length > 2 ? Long.parseLong(rest[2]) : 30000;
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "orchestron-kafka-cli-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        int seen = 0;
        long deadline = System.currentTimeMillis() + timeoutMs;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            consumer.subscribe(List.of(topic));
            while (seen < count && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    System.out.println(r.key() + "\t" + r.value());
                    if (++seen >= count) break;
                }
            }
        }
        if (seen < count) {
            System.err.println("consumed " + seen + " of " + count + " record(s) from " + topic + " within " + timeoutMs + " ms");
            return 1;
        }
        return 0;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
