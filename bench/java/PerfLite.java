// A small stand-in for RabbitMQ's PerfTest on Debian's Java client (librabbitmq-client-java):
// one producer connection publishing transient messages of SIZE bytes to one queue as fast as
// it can, one consumer connection acknowledging each delivery (basicAck, not multiple), for
// SECONDS seconds. Prints one line per second and a RESULT line at the end.
//
//   javac -cp /usr/share/java/amqp-client.jar -d OUT PerfLite.java
//   java -cp OUT:/usr/share/java/amqp-client.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar \
//        PerfLite PORT QUEUE SECONDS SIZE PREFETCH
import com.rabbitmq.client.*;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

public class PerfLite {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String queue = args[1];
        int seconds = Integer.parseInt(args[2]);
        int size = Integer.parseInt(args[3]);
        int prefetch = Integer.parseInt(args[4]);
        ConnectionFactory factory = new ConnectionFactory();
        factory.setHost("127.0.0.1");
        factory.setPort(port);
        factory.setUsername("guest");
        factory.setPassword("guest");
        Connection consumerConn = factory.newConnection("perflite-consumer");
        Connection producerConn = factory.newConnection("perflite-producer");
        final AtomicLong received = new AtomicLong();
        final AtomicLong sent = new AtomicLong();
        final AtomicLong blockedCount = new AtomicLong();
        producerConn.addBlockedListener(new BlockedListener() {
            public void handleBlocked(String reason) { blockedCount.incrementAndGet(); }
            public void handleUnblocked() { }
        });
        final Channel consumerChannel = consumerConn.createChannel();
        consumerChannel.queueDeclare(queue, false, false, false, null);
        if (prefetch > 0) consumerChannel.basicQos(prefetch);
        consumerChannel.basicConsume(queue, false, new DefaultConsumer(consumerChannel) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties,
                                       byte[] body) throws IOException {
                consumerChannel.basicAck(envelope.getDeliveryTag(), false);
                received.incrementAndGet();
            }
        });
        final Channel producerChannel = producerConn.createChannel();
        final byte[] body = new byte[size];
        final long end = System.nanoTime() + seconds * 1_000_000_000L;
        Thread producer = new Thread(() -> {
            try {
                while (System.nanoTime() < end) {
                    producerChannel.basicPublish("", queue, null, body);
                    sent.incrementAndGet();
                }
            } catch (Exception e) {
                System.out.println("PRODUCER-ERROR " + e);
            }
        });
        long start = System.nanoTime();
        producer.start();
        long minRate = Long.MAX_VALUE;
        long lastReceived = 0, lastSent = 0;
        for (int second = 1; second <= seconds; second++) {
            Thread.sleep(Math.max(0, start + second * 1_000_000_000L - System.nanoTime()) / 1_000_000L);
            long r = received.get(), s = sent.get();
            minRate = Math.min(minRate, r - lastReceived);
            System.out.println("second " + second + " sent " + (s - lastSent) + " received " + (r - lastReceived));
            System.out.flush();
            lastReceived = r;
            lastSent = s;
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        producer.join(30_000);
        System.out.println("RESULT sent " + sent.get() + " received " + received.get() + " seconds "
                           + String.format("%.3f", elapsed) + " min_received_per_second " + minRate
                           + " blocked " + blockedCount.get());
        System.out.flush();
        producerConn.abort(2000);
        consumerConn.abort(2000);
        System.exit(0);
    }
}
