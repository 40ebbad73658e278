// A poll repeated every `everyMs` until stopped, a failed poll caught up by the next one; stopping polls once more,
// so what was committed up to then is seen. The watchers of the failover bench and of the fault suite share it.
export interface PollLoop {
  stop(): Promise<void>;
}

export function pollEvery(poll: () => Promise<void>, everyMs = 100): PollLoop {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loop = async (): Promise<void> => {
    if (stopped) return;
    await poll().catch(() => undefined);
    if (!stopped) timer = setTimeout(() => void loop(), everyMs);
  };
  void loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await poll().catch(() => undefined);
    },
  };
}
