/** The browser the end-to-end tests drive: Debian's chromium package, never a downloaded build. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a sandbox-free headless run with background networking, component updates and sync turned off. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * Debian 12's chromium 156 gives navigator.gpu a SwiftShader adapter in headless mode with this
 * flag alone, on a secure origin such as http://127.0.0.1. Adding --enable-features=Vulkan,
 * --use-vulkan=swiftshader or --use-angle=swiftshader changed neither the adapter nor its
 * features when tried. Without the flag, requestAdapter() returns null. A data: URL is not a
 * secure context and has no navigator.gpu at all.
 */
export const WEBGPU_FLAG = '--enable-unsafe-webgpu';
