export function App() {
  return <main>Anchor Chat</main>;
}
