export default function Home() {
  return <main>Trellis</main>;
}
