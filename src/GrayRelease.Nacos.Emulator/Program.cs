// Placeholder; the emulator helper replaces this.
return 0;
