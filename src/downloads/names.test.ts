import { describe, expect, test } from "vitest";
import { attachmentHeader, cleanDownloadName, mimeTypeOf } from "./names.js";

describe("a download's name", () => {
  test("loses control characters and path separators, never becomes empty", () => {
    expect(cleanDownloadName("../../etc/passwd")).toBe(".._.._etc_passwd");
    expect(cleanDownloadName("a\u001b[31m\u0007b\u202etxt.exe\n")).toBe("a[31mbtxt.exe");
    expect(cleanDownloadName("C:\\Windows\\win.ini")).toBe("C:_Windows_win.ini");
    expect(cleanDownloadName("\u0000\u0001")).toBe("download");
    expect(cleanDownloadName("..")).toBe("download");
    expect(cleanDownloadName("x".repeat(500))).toHaveLength(200);
    expect(cleanDownloadName("résumé 📄.pdf")).toBe("résumé 📄.pdf");
  });

  test("is shown as an attachment with an ASCII fallback and the exact name (RFC 6266)", () => {
    expect(attachmentHeader("report.csv")).toBe(
      `attachment; filename="report.csv"; filename*=UTF-8''report.csv`,
    );
    expect(attachmentHeader('résumé "1" 100%.pdf')).toBe(
      `attachment; filename="r_sum_ _1_ 100_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22%20100%25.pdf`,
    );
    expect(attachmentHeader("it's (1).txt")).toBe(
      `attachment; filename="it's (1).txt"; filename*=UTF-8''it%27s%20%281%29.txt`,
    );
  });

  test("gives its type by extension", () => {
    expect(mimeTypeOf("report.CSV")).toBe("text/csv");
    expect(mimeTypeOf("data.bin")).toBe("application/octet-stream");
    expect(mimeTypeOf("no-extension")).toBe("application/octet-stream");
  });
});
