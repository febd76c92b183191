/** Builds the activities the worker registers; dependencies (store, transports) come in through the arguments. */
export function createActivities() {
  return {
    async composeGreeting(name: string): Promise<string> {
      return `Welcome aboard, ${name}!`;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
