// What the window's script finds on `window` besides the DOM: Tauri's global API
// (`app.withGlobalTauri`), only the parts the script uses.
interface Window {
  __TAURI__: {
    core: {
      invoke<T = any>(command: string, args?: Record<string, unknown>): Promise<T>;
    };
    event: {
      listen<T = any>(event: string, handler: (event: { payload: T }) => void): Promise<() => void>;
    };
  };
}
