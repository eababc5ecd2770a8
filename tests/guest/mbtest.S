/*
 * mbtest: a tiny multiboot-1 test kernel for qrun's batch-mode tests.
 *
 * QEMU loads it with -kernel (32-bit ELF only) and passes -append as the
 * multiboot command line, after the kernel's file name.  It prints
 * "mbtest: hello" on COM1, then obeys the words of the command line in
 * order (unknown words are ignored):
 *
 *   say=WORD   print WORD on a line of its own (may repeat)
 *   lines=N    print "mbtest: line 1" .. "mbtest: line N"
 *   exit=N     print "mbtest: exit N", write N to isa-debug-exit (port
 *              0xf4): QEMU exits with status (N << 1) | 1
 *   hang       print "mbtest: hanging" and halt forever
 *   panic      print "Kernel panic - not syncing: mbtest" and halt forever
 *
 * With no exit, hang or panic it ends with "mbtest: done" and halts.
 * Lines end in CR LF like a Linux serial console.
 *
 * Register use: routines take their argument in %eax and clobber only
 * %eax, %ecx and %edx; %esi is the command line cursor.
 */

	.set	MB_MAGIC, 0x1BADB002
	.set	MB_FLAGS, 0x00000003	/* page-aligned modules, memory info */
	.set	MB_BOOTED, 0x2BADB002	/* %eax from the loader */
	.set	MBI_F_CMDLINE, 0x04	/* info->flags: cmdline is valid */
	.set	MBI_CMDLINE, 16		/* offset of info->cmdline */
	.set	COM1, 0x3f8
	.set	EXIT_PORT, 0xf4

	.section .multiboot, "a"
	.align	4
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	.macro	PORTW port, val
	movw	$\port, %dx
	movb	$\val, %al
	outb	%al, %dx
	.endm

	.text
	.code32
	.globl	_start
_start:
	cli
	cld
	movl	$stack_top, %esp
	xorl	%esi, %esi		/* no command line yet */
	cmpl	$MB_BOOTED, %eax
	jne	1f
	testl	$MBI_F_CMDLINE, (%ebx)
	jz	1f
	movl	MBI_CMDLINE(%ebx), %esi
1:	call	uart_init
	movl	$s_hello, %eax
	call	println
	testl	%esi, %esi
	jz	done

next_word:
	call	skip_blanks
	testb	%al, %al
	jz	done
	movl	$k_say, %edi
	call	match_prefix
	testl	%eax, %eax
	jnz	do_say
	movl	$k_lines, %edi
	call	match_prefix
	testl	%eax, %eax
	jnz	do_lines
	movl	$k_exit, %edi
	call	match_prefix
	testl	%eax, %eax
	jnz	do_exit
	movl	$k_hang, %edi
	call	match_word
	testl	%eax, %eax
	jnz	do_hang
	movl	$k_panic, %edi
	call	match_word
	testl	%eax, %eax
	jnz	do_panic
	call	skip_word		/* unknown word, e.g. the file name */
	jmp	next_word

do_say:
1:	movb	(%esi), %al
	call	is_end
	testl	%eax, %eax
	jnz	2f
	movb	(%esi), %al
	call	putc
	incl	%esi
	jmp	1b
2:	movb	$10, %al
	call	putc
	jmp	next_word

do_lines:
	call	parse_dec
	movl	%eax, %edi		/* N */
	movl	$1, %ebx		/* K */
1:	cmpl	%edi, %ebx
	ja	2f
	movl	$s_line, %eax
	call	print
	movl	%ebx, %eax
	call	putdec
	movb	$10, %al
	call	putc
	incl	%ebx
	jmp	1b
2:	call	skip_word
	jmp	next_word

do_exit:
	call	parse_dec
	movl	%eax, %ebx
	movl	$s_exit, %eax
	call	print
	movl	%ebx, %eax
	call	putdec
	movb	$10, %al
	call	putc
	call	uart_flush
	movl	%ebx, %eax
	movw	$EXIT_PORT, %dx
	outb	%al, %dx
	/* Still running: QEMU has no isa-debug-exit device. */
	movl	$s_noexit, %eax
	call	println
	jmp	halt

do_hang:
	movl	$s_hang, %eax
	call	println
	jmp	halt

do_panic:
	movl	$s_panic, %eax
	call	println
	jmp	halt

done:
	movl	$s_done, %eax
	call	println
halt:
	call	uart_flush
	cli
1:	hlt
	jmp	1b

/* 115200 8N1, FIFOs on, interrupts off: we poll. */
uart_init:
	PORTW	COM1+1, 0x00
	PORTW	COM1+3, 0x80
	PORTW	COM1+0, 0x01
	PORTW	COM1+1, 0x00
	PORTW	COM1+3, 0x03
	PORTW	COM1+2, 0xc7
	PORTW	COM1+4, 0x03
	ret

/* Wait until the transmitter is empty, so the last byte is out. */
uart_flush:
	movw	$COM1+5, %dx
1:	inb	%dx, %al
	testb	$0x40, %al
	jz	1b
	ret

/* putc_raw: send %al once the holding register is free. */
putc_raw:
	pushl	%eax
	movw	$COM1+5, %dx
1:	inb	%dx, %al
	testb	$0x20, %al
	jz	1b
	popl	%eax
	movw	$COM1, %dx
	outb	%al, %dx
	ret

/* putc: %al, with LF sent as CR LF. */
putc:
	cmpb	$10, %al
	jne	putc_raw
	movb	$13, %al
	call	putc_raw
	movb	$10, %al
	jmp	putc_raw

/* print: the NUL-terminated string at %eax. */
print:
	movl	%eax, %ecx
1:	movb	(%ecx), %al
	testb	%al, %al
	jz	2f
	call	putc
	incl	%ecx
	jmp	1b
2:	ret

println:
	call	print
	movb	$10, %al
	jmp	putc

/* putdec: %eax in decimal. */
putdec:
	pushl	%ebx
	movl	$10, %ebx
	xorl	%ecx, %ecx
1:	xorl	%edx, %edx
	divl	%ebx
	addb	$0x30, %dl
	pushl	%edx
	incl	%ecx
	testl	%eax, %eax
	jnz	1b
2:	popl	%eax
	call	putc
	loop	2b
	popl	%ebx
	ret

/* parse_dec: the decimal number at %esi into %eax, %esi past it. */
parse_dec:
	xorl	%eax, %eax
1:	movzbl	(%esi), %ecx
	subl	$0x30, %ecx
	cmpl	$9, %ecx
	ja	2f
	imull	$10, %eax, %eax
	addl	%ecx, %eax
	incl	%esi
	jmp	1b
2:	ret

/* is_end: %eax = 1 when %al ends a word (NUL, space, tab, CR, LF). */
is_end:
	testb	%al, %al
	jz	1f
	cmpb	$0x20, %al
	je	1f
	cmpb	$9, %al
	je	1f
	cmpb	$10, %al
	je	1f
	cmpb	$13, %al
	je	1f
	xorl	%eax, %eax
	ret
1:	movl	$1, %eax
	ret

/* skip_blanks: move %esi to the next word; %al = its first byte or 0. */
skip_blanks:
1:	movb	(%esi), %al
	testb	%al, %al
	jz	2f
	call	is_end
	testl	%eax, %eax
	jz	2f
	incl	%esi
	jmp	1b
2:	movb	(%esi), %al
	ret

/* skip_word: move %esi to the end of the current word. */
skip_word:
1:	movb	(%esi), %al
	call	is_end
	testl	%eax, %eax
	jnz	2f
	incl	%esi
	jmp	1b
2:	ret

/*
 * match_prefix: does the word at %esi start with the string at %edi?
 * Yes: %eax = 1, %esi just past the prefix.  No: %eax = 0, %esi kept.
 */
match_prefix:
	pushl	%esi
	pushl	%edi
1:	movb	(%edi), %al
	testb	%al, %al
	jz	2f
	cmpb	(%esi), %al
	jne	3f
	incl	%esi
	incl	%edi
	jmp	1b
2:	popl	%edi
	addl	$4, %esp
	movl	$1, %eax
	ret
3:	popl	%edi
	popl	%esi
	xorl	%eax, %eax
	ret

/* match_word: like match_prefix, but the whole word must match. */
match_word:
	pushl	%esi
	call	match_prefix
	testl	%eax, %eax
	jz	1f
	movb	(%esi), %al
	call	is_end
	testl	%eax, %eax
	jz	1f
	addl	$4, %esp
	ret
1:	popl	%esi
	xorl	%eax, %eax
	ret

	.section .rodata
k_say:		.asciz	"say="
k_lines:	.asciz	"lines="
k_exit:		.asciz	"exit="
k_hang:		.asciz	"hang"
k_panic:	.asciz	"panic"
s_hello:	.asciz	"mbtest: hello"
s_line:		.asciz	"mbtest: line "
s_exit:		.asciz	"mbtest: exit "
s_noexit:	.asciz	"mbtest: no isa-debug-exit device, halting"
s_hang:		.asciz	"mbtest: hanging"
s_panic:	.asciz	"Kernel panic - not syncing: mbtest"
s_done:		.asciz	"mbtest: done"

	.bss
	.align	16
stack:	.skip	4096
stack_top:
